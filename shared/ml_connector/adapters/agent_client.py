"""The connector's only way into a customer's Sage 100: the agent's HTTPS API (contract: sage100-agent-api.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import ssl
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from ml_connector.adapters.agent_tls import CertificatePinMismatch, agent_transport
from ml_connector.adapters.backoff import BackoffPolicy, Logger, TransientFailure, parse_retry_after
from ml_connector.adapters.pooled_client import PooledClient
from ml_connector.adapters.scrubbing import Scrubber
from ml_connector.connections import AgentConnection
from ml_connector.domain.sage import (
    AgentHealth,
    CompanyInfo,
    GLAccount,
    GLSegment,
    InvalidRecord,
    ManualCheck,
    ManualCheckResult,
    OpenInvoice,
    Page,
    RecordedManualCheck,
    SageModel,
    SageVendor,
    SegmentValue,
    format_agent_timestamp,
    format_sage_date,
)
from ml_connector.domain.wire import validation_messages, validation_summary
from ml_connector.errors import (
    AgentAuthFailed,
    AgentContractViolation,
    AgentOffline,
    AgentTlsFailed,
    CompanyNotServed,
    FieldError,
    PaymentAlreadyExists,
    RetryLater,
    SageRecordInvalid,
    SageRequestRejected,
    SageValidationFailed,
)

AGENT_KEY_HEADER = "X-Agent-Key"
IMAGE_CHUNK_BYTES = 64 * 1024
M = TypeVar("M", bound=SageModel)
B = TypeVar("B", bound=BaseModel)


def _segment(value: str) -> str:
    return quote(value, safe="")


def _is_certificate_failure(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


class AgentInvoiceImage:
    """An image response being streamed; checks the bytes against the agent's ETag (their SHA-256) at the end."""

    def __init__(self, response: httpx.Response, *, what: str, scrub: Callable[[str], str]) -> None:
        self._response = response
        self._what = what
        self._scrub = scrub
        length = response.headers.get("Content-Length")
        self.content_type: str = response.headers.get("Content-Type", "application/octet-stream")
        self.size: int | None = int(length) if length and length.isdigit() else None
        etag = response.headers.get("ETag", "").removeprefix("W/").strip('"').lower()
        self.sha256: str | None = etag or None

    def iter_bytes(self) -> Iterator[bytes]:
        digest = hashlib.sha256()
        try:
            for chunk in self._response.iter_bytes(IMAGE_CHUNK_BYTES):
                digest.update(chunk)
                yield chunk
        except httpx.HTTPError as exc:
            raise RetryLater(
                self._scrub(f"{self._what}: download broke off ({exc.__class__.__name__}: {exc}); retry later")
            ) from None
        if self.sha256 is not None and not hmac.compare_digest(digest.hexdigest(), self.sha256):
            raise RetryLater(
                f"{self._what}: downloaded bytes have SHA-256 {digest.hexdigest()}, the agent announced "
                f"{self.sha256}; the transfer was corrupted, retry later"
            )


class AgentClient(PooledClient):
    """A pooled HTTPS client for one customer's agent and Sage company. Implements ``ports.SageAgent``."""

    call_latency_metric = "AgentCallLatency"

    def __init__(
        self,
        connection: AgentConnection,
        agent_key: str,
        *,
        retry_policy: BackoffPolicy | None = None,
        logger: Logger | None = None,
    ) -> None:
        self._connection = connection
        self._retry = retry_policy or BackoffPolicy()
        self._log: Logger = logger or logging.getLogger(__name__)
        self._scrubber = Scrubber([agent_key], [AGENT_KEY_HEADER])
        limits = httpx.Limits(
            max_connections=connection.max_connections, max_keepalive_connections=connection.max_connections
        )
        self._http = httpx.Client(
            base_url=connection.base_url,
            transport=agent_transport(connection.tls, limits=limits, logger=self._log, agent_url=connection.base_url),
            headers={AGENT_KEY_HEADER: agent_key, "Accept": "application/json"},
            timeout=connection.timeouts.as_httpx(),
            follow_redirects=False,
            trust_env=False,
        )
        self._company_path = f"/v1/companies/{connection.company}"

    # -- the port -------------------------------------------------------------------------------------------

    def health(self) -> AgentHealth:
        return self._model(AgentHealth, self._call("GET", "/v1/health", what="agent health"), "agent health")

    def ping(self) -> CompanyInfo:
        what = f"ping of Sage company {self._connection.company}"
        return self._model(CompanyInfo, self._call("GET", f"{self._company_path}/ping", what=what), what)

    def vendors_page(
        self, *, updated_since: dt.datetime | None, cursor: str | None = None, limit: int | None = None
    ) -> Page[SageVendor]:
        params = self._page_params(updated_since, cursor, limit)
        return self._page(SageVendor, "/vendors", params, "{APDivisionNo}-{VendorNo}")

    def gl_accounts_page(
        self, *, updated_since: dt.datetime | None, cursor: str | None = None, limit: int | None = None
    ) -> Page[GLAccount]:
        params = self._page_params(updated_since, cursor, limit)
        return self._page(GLAccount, "/gl/accounts", params, "{AccountKey}")

    def gl_segments(self) -> list[GLSegment]:
        what = f"GL segments of Sage company {self._connection.company}"
        body = self._json(self._call("GET", f"{self._company_path}/gl/segments", what=what), what)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise AgentContractViolation(f"{what}: the agent's answer has no 'items' list; check the agent version")
        return [self._model_from(GLSegment, item, what) for item in items]

    def segment_values_page(
        self,
        *,
        segment_no: int,
        updated_since: dt.datetime | None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[SegmentValue]:
        params = {"segment_no": str(segment_no), **self._page_params(updated_since, cursor, limit)}
        return self._page(SegmentValue, "/gl/segment-values", params, "{SegmentNo}-{SubAccountCode}")

    def open_invoices_page(
        self,
        *,
        updated_since: dt.datetime | None,
        invoice_date_from: dt.date | None = None,
        division: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[OpenInvoice]:
        params = self._page_params(updated_since, cursor, limit)
        if invoice_date_from is not None:
            params["invoice_date_from"] = format_sage_date(invoice_date_from)
        if division is not None:
            params["division"] = division
        return self._page(OpenInvoice, "/ap/invoices", params, "{APDivisionNo}-{VendorNo}/{InvoiceNo}")

    def open_invoice(self, division: str, vendor_no: str, invoice_no: str) -> OpenInvoice | None:
        path = self._invoice_path(division, vendor_no, invoice_no).removeprefix(self._company_path)
        return self._keyed(OpenInvoice, path, f"open invoice {division}-{vendor_no}/{invoice_no}")

    @contextmanager
    def invoice_image(self, division: str, vendor_no: str, invoice_no: str) -> Iterator[AgentInvoiceImage | None]:
        what = f"image of invoice {division}-{vendor_no}/{invoice_no}"
        path = self._invoice_path(division, vendor_no, invoice_no) + "/image"
        response = self._call("GET", path, what=what, missing_ok=True, stream=True)
        if response is None:
            yield None
            return
        try:
            yield AgentInvoiceImage(response, what=what, scrub=self._scrubber.scrub)
        finally:
            response.close()

    def vendor(self, division: str, vendor_no: str) -> SageVendor | None:
        return self._keyed(
            SageVendor, f"/vendors/{_segment(division)}/{_segment(vendor_no)}", f"vendor {division}-{vendor_no}"
        )

    def gl_account(self, account_key: str) -> GLAccount | None:
        return self._keyed(GLAccount, f"/gl/accounts/{_segment(account_key)}", f"GL account {account_key}")

    def segment_value(self, segment_no: int, code: str) -> SegmentValue | None:
        path = f"/gl/segment-values/{segment_no}/{_segment(code)}"
        return self._keyed(SegmentValue, path, f"segment {segment_no} value {code}")

    def post_manual_check(self, check: ManualCheck) -> ManualCheckResult:
        what = f"manual check {check.key} for vendor {check.ap_division_no}-{check.vendor_no}"
        body = check.model_dump(mode="json")
        response = self._call("POST", f"{self._company_path}/ap/payments", what=what, json_body=body)
        return self._model(ManualCheckResult, response, what)

    def manual_check(self, bank_code: str, check_no: str) -> RecordedManualCheck | None:
        what = f"manual check {bank_code}/{check_no}"
        path = f"{self._company_path}/ap/payments/{_segment(bank_code)}/{_segment(check_no)}"
        response = self._call("GET", path, what=what, missing_ok=True)
        return None if response is None else self._record(RecordedManualCheck, response, what)

    # -- requests and their failures ----------------------------------------------------------------------

    def _page_params(self, updated_since: dt.datetime | None, cursor: str | None, limit: int | None) -> dict[str, str]:
        params = {"limit": str(limit or self._connection.page_size)}
        if updated_since is not None:
            params["updated_since"] = format_agent_timestamp(updated_since)
        if cursor is not None:
            params["cursor"] = cursor
        return params

    def _invoice_path(self, division: str, vendor_no: str, invoice_no: str) -> str:
        keys = "/".join(_segment(k) for k in (division, vendor_no, invoice_no))
        return f"{self._company_path}/ap/invoices/{keys}"

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        missing_ok: bool = False,
        stream: bool = False,
    ) -> httpx.Response | None:
        """Send with retries; None for a 404 ``not_found`` when ``missing_ok``. A streamed response is open."""

        def attempt() -> httpx.Response | None:
            request = self._http.build_request(method, path, params=params, json=json_body)
            try:
                response = self._http.send(request, stream=True)
            except CertificatePinMismatch as exc:
                raise AgentTlsFailed(f"{what}: agent at {self._connection.base_url}: {exc}") from None
            except httpx.HTTPError as exc:
                raise self._transport_failure(exc, what) from None
            if response.is_success:
                if not stream:
                    self._read(response, what)
                return response
            try:
                self._read(response, what)
            finally:
                response.close()
            self._raise_for_status(response, what, missing_ok=missing_ok)
            return None

        return self._retry.run(attempt, what=what, logger=self._log, scrub=self._scrubber.scrub)

    def _read(self, response: httpx.Response, what: str) -> None:
        try:
            response.read()
        except httpx.HTTPError as exc:
            response.close()
            raise self._transport_failure(exc, what) from None

    def _transport_failure(self, exc: httpx.HTTPError, what: str) -> Exception:
        detail = self._scrubber.scrub(f"{exc.__class__.__name__}: {exc}")
        url = self._connection.base_url
        if _is_certificate_failure(exc):
            return AgentTlsFailed(
                f"{what}: the agent at {url} presented a certificate the customer's TLS settings do not trust "
                f"({detail}); fix tls (ca_bundle_pem, pinned fingerprint) or the agent's certificate"
            )
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            return TransientFailure(
                AgentOffline(
                    f"{what}: cannot reach the agent at {url} ({detail}); check that the agent service runs and "
                    "that the customer's firewall lets the connector in"
                )
            )
        return TransientFailure(RetryLater(f"{what}: no complete answer from the agent at {url} ({detail})"))

    def _raise_for_status(self, response: httpx.Response, what: str, *, missing_ok: bool) -> None:
        """Raise what a failed answer means; return only for a 404 ``not_found`` the caller accepts."""
        error = self._error_body(response)
        code = str(error.get("code", ""))
        message = self._scrubber.scrub(str(error.get("message", "")) or response.reason_phrase)
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        company = self._connection.company
        if status == 401:
            raise AgentAuthFailed(
                f"{what}: the agent at {self._connection.base_url} refused the agent key (401); "
                "put the key from the agent's configuration into the customer's secret"
            )
        if status == 404 and code == "company_not_found":
            raise CompanyNotServed(
                f"{what}: the agent does not serve Sage company {company}; check the company code in the "
                "customer settings against the agent's configuration"
            )
        if status == 404 and code == "not_found" and missing_ok:
            return
        if status == 409:
            raise self._already_exists(error, what)
        if status == 422:
            fields = [
                FieldError(str(f.get("field", "")), self._scrubber.scrub(str(f.get("message", ""))))
                for f in error.get("fields") or []
                if isinstance(f, dict)
            ]
            listed = "; ".join(f"{f.field}: {f.message}" for f in fields) or message
            raise SageValidationFailed(
                f"{what}: Sage 100 refused it ({listed}); fix the data and replay the record", fields=fields
            )
        if status == 400:
            raise SageRequestRejected(f"{what}: the agent refused the request as malformed ({message})")
        if status in (423, 429, 503):
            reason = "record locked in Sage" if status == 423 else "agent busy"
            raise TransientFailure(
                RetryLater(f"{what}: {reason} ({status} {code}: {message}); retry later", retry_after=retry_after),
                retry_after=retry_after,
            )
        if status >= 500:
            raise TransientFailure(
                RetryLater(f"{what}: Sage 100 failed ({status} {code}: {message}); retry later"),
                server_error=True,
            )
        raise AgentContractViolation(
            f"{what}: unexpected answer {status} {code} from the agent ({message}); check the agent version"
        )

    def _error_body(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = json.loads(response.content)
        except ValueError:
            return {}
        error = body.get("error") if isinstance(body, dict) else None
        return error if isinstance(error, dict) else {}

    def _already_exists(self, error: dict[str, Any], what: str) -> Exception:
        try:
            existing = RecordedManualCheck.model_validate(error.get("existing"))
        except ValidationError as exc:
            return AgentContractViolation(
                self._scrubber.scrub(
                    f"{what}: the agent answered 409 with an unreadable 'existing' check ({validation_summary(exc)})"
                )
            )
        return PaymentAlreadyExists(
            f"{what}: a manual check {existing.key} is already recorded in Sage "
            f"({existing.check_amount} to {existing.ap_division_no}-{existing.vendor_no}, posted={existing.posted}); "
            "compare it with the payment before treating it as posted",
            existing=existing,
        )

    # -- bodies ---------------------------------------------------------------------------------------------

    def _json(self, response: httpx.Response | None, what: str) -> Any:
        assert response is not None  # only keyed reads ask for missing_ok
        try:
            return response.json()
        except ValueError:
            raise AgentContractViolation(f"{what}: the agent's answer is not JSON; check the agent version") from None

    def _model(self, model: type[B], response: httpx.Response | None, what: str) -> B:
        return self._model_from(model, self._json(response, what), what)

    def _model_from(self, model: type[B], data: Any, what: str) -> B:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise AgentContractViolation(
                self._scrubber.scrub(
                    f"{what}: the agent's answer does not match the contract "
                    f"({validation_summary(exc)}); check the agent version"
                )
            ) from None

    def _keyed(self, model: type[M], path: str, what: str) -> M | None:
        response = self._call("GET", f"{self._company_path}{path}", what=what, missing_ok=True)
        return None if response is None else self._record(model, response, what)

    def _record(self, model: type[M], response: httpx.Response, what: str) -> M:
        """A keyed record: one that breaks Sage's rules fails that record, not the customer."""
        try:
            return model.model_validate(self._json(response, what))
        except ValidationError as exc:
            raise SageRecordInvalid(
                self._scrubber.scrub(f"{what}: {validation_summary(exc)}; correct the record in Sage")
            ) from None

    def _page(self, model: type[M], path: str, params: dict[str, str], key_format: str) -> Page[M]:
        what = f"{path.strip('/').replace('/', ' ')} page of Sage company {self._connection.company}"
        body = self._json(self._call("GET", f"{self._company_path}{path}", what=what, params=params), what)
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise AgentContractViolation(f"{what}: the agent's answer has no 'items' list; check the agent version")
        next_cursor = body.get("next_cursor")
        if next_cursor is not None and not isinstance(next_cursor, str):
            raise AgentContractViolation(f"{what}: 'next_cursor' is not a string; check the agent version")
        items: list[M] = []
        invalid: list[InvalidRecord] = []
        for raw in body["items"]:
            try:
                items.append(model.model_validate(raw))
            except ValidationError as exc:
                key = key_format.format_map(defaultdict(lambda: "?", raw)) if isinstance(raw, dict) else "?"
                invalid.append(InvalidRecord(key=key, errors=validation_messages(exc)))
        return Page[M](items=items, next_cursor=next_cursor, invalid=invalid)
