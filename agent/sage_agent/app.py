"""The agent's HTTP layer (contract v1) over any ``SageBackend``.

No ``from __future__ import annotations`` here: FastAPI resolves the local ``Annotated`` aliases at definition.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import StreamingResponse

from sage_agent import __version__
from sage_agent.auth import AGENT_KEY_HEADER, AgentKeyMiddleware, AgentKeys, ClientPolicy
from sage_agent.backend import IMAGE_CONTENT_TYPES, ChangeWindow, InvoiceFilter, SageBackend
from sage_agent.faults import FaultController, FaultSettings
from sage_agent.http_errors import ApiError, Utf8JsonRoute, error_responses, install_error_handlers
from sage_agent.key_paths import EncodedSlashPaths, register_key_convertor
from sage_agent.paging import BadCursor, RecordT, read_page
from sage_agent.records import (
    COMPANY_PATTERN,
    DATE_PATTERN,
    DIVISION_PATTERN,
    CompanyInfo,
    GLAccount,
    Health,
    ManualCheck,
    ManualCheckResult,
    OpenInvoice,
    Page,
    RecordedManualCheck,
    SegmentList,
    SegmentValue,
    Vendor,
)
from sage_agent.sage_time import Clock, SageStamp, format_server_time, parse_sage_date, parse_updated_since

FoundT = TypeVar("FoundT")
_READ_ERRORS = error_responses(400, 401, 404, 423, 500, 503)
_WRITE_ERRORS = error_responses(400, 401, 404, 409, 422, 423, 500, 503)


@dataclass(frozen=True)
class AgentSettings:
    """What the HTTP layer needs beyond the backends."""

    agent_keys: AgentKeys
    clock: Clock
    post_payments: bool = True
    faults: FaultController | None = None
    clients: ClientPolicy = field(default_factory=ClientPolicy)


@dataclass(frozen=True)
class FeedQuery:
    since: SageStamp | None
    cursor: str | None
    limit: int


def feed_query(
    updated_since: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{8}T[0-9]{2}:[0-9]{2}:[0-9]{2}$",
            description="YYYYMMDDTHH:MM:SS, agent-local: records stamped at or after it",
            examples=["20261120T13:30:00"],
        ),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=1000, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> FeedQuery:
    since = None
    if updated_since is not None:
        try:
            since = SageStamp.at(parse_updated_since(updated_since))
        except ValueError as error:
            raise ApiError(400, "bad_request", f"updated_since: {error}") from None
    return FeedQuery(since, cursor, limit)


CompanyCode = Annotated[str, Path(pattern=COMPANY_PATTERN, examples=["RCC"], description="Sage company code")]
Division = Annotated[str, Path(pattern=DIVISION_PATTERN, examples=["01"])]
VendorKey = Annotated[str, Path(min_length=1, max_length=7, examples=["ACME"])]
InvoiceKey = Annotated[str, Path(min_length=1, max_length=10, examples=["10045"])]


def _settings(request: Request) -> AgentSettings:
    settings: AgentSettings = request.app.state.agent_settings
    return settings


def company_backend(request: Request, company: CompanyCode) -> SageBackend:
    backends: Mapping[str, SageBackend] = request.app.state.backends
    backend = backends.get(company)
    if backend is None:
        served = ", ".join(sorted(backends)) or "none"
        raise ApiError(404, "company_not_found", f"company {company} is not served by this agent (serves {served})")
    return backend


def faults_at(endpoint: str) -> list[Any]:
    """The dependency that applies injected faults to ``endpoint`` (a no-op unless faults are enabled)."""

    def inject(request: Request) -> None:
        controller = _settings(request).faults
        if controller is not None:
            controller.before_call(endpoint)

    return [Depends(inject)]


Backend = Annotated[SageBackend, Depends(company_backend)]
Feed = Annotated[FeedQuery, Depends(feed_query)]
Settings = Annotated[AgentSettings, Depends(_settings)]


def _found(record: FoundT | None, missing: str) -> FoundT:
    """``record``, or 404 ``not_found`` saying what is ``missing``."""
    if record is None:
        raise ApiError(404, "not_found", missing)
    return record


def _page(
    feed: str, key_types: tuple[type, ...], browse: Callable[[ChangeWindow], list[RecordT]], query: FeedQuery
) -> Page[RecordT]:
    try:
        return read_page(feed, key_types, browse, limit=query.limit, since=query.since, cursor=query.cursor)
    except BadCursor as error:
        raise ApiError(400, "bad_request", f"cursor: {error}") from None


register_key_convertor()  # routes compile their paths as they are declared below
router = APIRouter(prefix="/v1", route_class=Utf8JsonRoute)
COMPANY = "/companies/{company}"
INVOICE = f"{COMPANY}/ap/invoices/{{division:key}}/{{vendor:key}}/{{invoice:key}}"


@router.get("/health", response_model=Health, responses=_READ_ERRORS, dependencies=faults_at("health"))
def health(request: Request, settings: Settings) -> Health:
    backends: Mapping[str, SageBackend] = request.app.state.backends
    first = next(iter(backends.values()), None)
    return Health(
        agent_version=__version__,
        sage_version=first.sage_version if first else "",
        companies=sorted(backends),
        server_time=format_server_time(settings.clock.now()),
    )


@router.get(f"{COMPANY}/ping", response_model=CompanyInfo, responses=_READ_ERRORS, dependencies=faults_at("ping"))
def ping(backend: Backend) -> CompanyInfo:
    return backend.company_info()


@router.get(
    f"{COMPANY}/vendors", response_model=Page[Vendor], responses=_READ_ERRORS, dependencies=faults_at("vendors")
)
def vendors(backend: Backend, query: Feed) -> Page[Vendor]:
    return _page("vendors", (str, str), backend.browse_vendors, query)


@router.get(
    f"{COMPANY}/gl/accounts",
    response_model=Page[GLAccount],
    responses=_READ_ERRORS,
    dependencies=faults_at("gl_accounts"),
)
def gl_accounts(backend: Backend, query: Feed) -> Page[GLAccount]:
    return _page("gl_accounts", (str,), backend.browse_gl_accounts, query)


@router.get(
    f"{COMPANY}/gl/segments", response_model=SegmentList, responses=_READ_ERRORS, dependencies=faults_at("gl_segments")
)
def gl_segments(backend: Backend) -> SegmentList:
    return SegmentList(items=backend.gl_segments())


@router.get(
    f"{COMPANY}/gl/segment-values",
    response_model=Page[SegmentValue],
    responses=_READ_ERRORS,
    dependencies=faults_at("segment_values"),
)
def segment_values(
    backend: Backend, query: Feed, segment_no: Annotated[int | None, Query(ge=1, le=9)] = None
) -> Page[SegmentValue]:
    def browse(window: ChangeWindow) -> list[SegmentValue]:
        return backend.browse_segment_values(window, segment_no)

    return _page("segment_values", (int, str), browse, query)


@router.get(
    f"{COMPANY}/ap/invoices",
    response_model=Page[OpenInvoice],
    responses=_READ_ERRORS,
    dependencies=faults_at("invoices"),
)
def invoices(
    backend: Backend,
    query: Feed,
    invoice_date_from: Annotated[str | None, Query(pattern=DATE_PATTERN, examples=["20261001"])] = None,
    division: Annotated[str | None, Query(pattern=DIVISION_PATTERN)] = None,
) -> Page[OpenInvoice]:
    try:
        date_from = parse_sage_date(invoice_date_from) if invoice_date_from else None
    except ValueError as error:
        raise ApiError(400, "bad_request", f"invoice_date_from: {error}") from None
    invoice_filter = InvoiceFilter(invoice_date_from=date_from, division=division)

    def browse(window: ChangeWindow) -> list[OpenInvoice]:
        return backend.browse_open_invoices(window, invoice_filter)

    return _page("invoices", (str, str, str), browse, query)


@router.get(
    f"{COMPANY}/vendors/{{division:key}}/{{vendor:key}}",
    response_model=Vendor,
    responses=_READ_ERRORS,
    dependencies=faults_at("vendor"),
)
def vendor(backend: Backend, division: Division, vendor: VendorKey) -> Vendor:
    return _found(backend.read_vendor(division, vendor), f"vendor {division}-{vendor} does not exist")


@router.get(
    f"{COMPANY}/gl/accounts/{{account_key:key}}",
    response_model=GLAccount,
    responses=_READ_ERRORS,
    dependencies=faults_at("gl_account"),
)
def gl_account(
    backend: Backend, account_key: Annotated[str, Path(min_length=1, max_length=9, examples=["610002300"])]
) -> GLAccount:
    return _found(backend.read_gl_account(account_key), f"GL account {account_key} does not exist")


@router.get(
    f"{COMPANY}/gl/segment-values/{{segment_no:key}}/{{code:key}}",
    response_model=SegmentValue,
    responses=_READ_ERRORS,
    dependencies=faults_at("segment_value"),
)
def segment_value(
    backend: Backend,
    segment_no: Annotated[int, Path(ge=1, le=9, examples=[3])],
    code: Annotated[str, Path(min_length=1, max_length=15, examples=["300"])],
) -> SegmentValue:
    return _found(backend.read_segment_value(segment_no, code), f"segment {segment_no} value {code} does not exist")


@router.get(INVOICE, response_model=OpenInvoice, responses=_READ_ERRORS, dependencies=faults_at("invoice"))
def invoice(backend: Backend, division: Division, vendor: VendorKey, invoice: InvoiceKey) -> OpenInvoice:
    return _found(
        backend.read_open_invoice(division, vendor, invoice),
        f"invoice {division}-{vendor}/{invoice} is not open (paid, removed or never entered)",
    )


@router.get(
    f"{INVOICE}/image",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the scanned invoice; ETag is the SHA-256 of the bytes",
            "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in IMAGE_CONTENT_TYPES},
        },
        **_READ_ERRORS,
    },
    dependencies=faults_at("invoice_image"),
)
def invoice_image(backend: Backend, division: Division, vendor: VendorKey, invoice: InvoiceKey) -> StreamingResponse:
    image = backend.read_invoice_image(division, vendor, invoice)
    if image is None:
        raise ApiError(404, "not_found", f"invoice {division}-{vendor}/{invoice} has no image or is not open")
    return StreamingResponse(
        image.chunks(),
        media_type=image.content_type,
        headers={"Content-Length": str(image.size), "ETag": f'"{image.sha256}"'},
    )


@router.post(
    f"{COMPANY}/ap/payments",
    response_model=ManualCheckResult,
    status_code=201,
    responses=_WRITE_ERRORS,
    dependencies=faults_at("post_payment"),
)
def post_payment(backend: Backend, settings: Settings, check: ManualCheck) -> ManualCheckResult:
    return backend.record_manual_check(check, post=settings.post_payments)


@router.get(
    f"{COMPANY}/ap/payments/{{bank_code:key}}/{{check_no:key}}",
    response_model=RecordedManualCheck,
    responses=_READ_ERRORS,
    dependencies=faults_at("get_payment"),
)
def get_payment(
    backend: Backend,
    bank_code: Annotated[str, Path(pattern=r"^[A-Z0-9]$", examples=["A"])],
    check_no: Annotated[str, Path(min_length=1, max_length=10, examples=["0000104522"])],
) -> RecordedManualCheck:
    return _found(backend.read_manual_check(bank_code, check_no), f"manual check {bank_code}/{check_no} does not exist")


def create_app(backends: Mapping[str, SageBackend], settings: AgentSettings) -> FastAPI:
    """The FastAPI application serving ``backends`` (company code -> backend)."""
    app = FastAPI(
        title="Sage 100 agent",
        version=__version__,
        description="Contract v1 between the ml-connector and a Sage 100 server. Every request needs X-Agent-Key.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.backends = dict(backends)
    app.state.agent_settings = settings
    install_error_handlers(app)
    app.include_router(router)
    if settings.faults is not None:
        app.include_router(_faults_router(settings.faults))
    app.add_middleware(AgentKeyMiddleware, keys=settings.agent_keys, policy=settings.clients)
    app.add_middleware(EncodedSlashPaths)
    _declare_security(app)
    return app


def _faults_router(controller: FaultController) -> APIRouter:
    router = APIRouter(prefix="/v1/_faults", include_in_schema=False)

    @router.get("", response_model=FaultSettings)
    def current() -> FaultSettings:
        return controller.settings()

    @router.put("", response_model=FaultSettings)
    def replace(settings: FaultSettings) -> FaultSettings:
        try:
            controller.apply(settings)
        except ValueError as error:
            raise ApiError(400, "bad_request", str(error)) from None
        return controller.settings()

    @router.delete("", status_code=204, response_class=Response)
    def clear() -> Response:
        controller.reset()
        return Response(status_code=204)

    return router


def _declare_security(app: FastAPI) -> None:
    """The key is checked by ``AgentKeyMiddleware``; the document says so for clients and schemathesis."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {})["securitySchemes"] = {
                "AgentKey": {"type": "apiKey", "in": "header", "name": AGENT_KEY_HEADER}
            }
            schema["security"] = [{"AgentKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
