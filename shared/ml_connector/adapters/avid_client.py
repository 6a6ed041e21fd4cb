"""The connector's only way into AvidXchange: AvidConnect over HTTPS (contract: avidconnect-api.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from ml_connector.adapters.agent_tls import system_trust
from ml_connector.adapters.backoff import BackoffPolicy, Logger, TransientFailure, parse_retry_after
from ml_connector.adapters.pacing import Pacer, Permit, TooLongToWait
from ml_connector.adapters.pooled_client import PooledClient
from ml_connector.adapters.scrubbing import Scrubber
from ml_connector.adapters.shared_turns import SharedTurns
from ml_connector.adapters.streams import IterableReader, SpooledChunks
from ml_connector.connections import AvidConnection
from ml_connector.domain.avid import (
    AvidCompany,
    AvidInvoice,
    AvidPayment,
    AvidVendor,
    AvidVendorRecord,
    BatchItemResult,
    EnterpriseCode,
    EnterpriseCodeRecord,
    InvalidPayment,
    NewInvoice,
    PaymentWindow,
)
from ml_connector.domain.wire import validation_summary
from ml_connector.errors import (
    AvidAuthFailed,
    AvidContractViolation,
    AvidRejected,
    OutcomeUnknown,
    RetryLater,
)

VENDOR_BATCH_SIZE = 100
ENTERPRISE_CODE_BATCH_SIZE = 500
# The contract's image size limit (assumed): an image up to this size is kept in a temp file to be sent again.
MAX_SPOOLED_IMAGE_BYTES = 25 * 1024 * 1024
PAYMENT_WINDOW = dt.timedelta(days=30)
# A window this short is read page by page even when it holds more than a page (payments modified in one second).
MIN_PAYMENT_WINDOW = dt.timedelta(seconds=1)
B = TypeVar("B", bound=BaseModel)
K = TypeVar("K", AvidVendor, EnterpriseCode)

# Failures after which the request certainly never reached AvidXchange: safe to repeat even a create.
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _iso(value: dt.datetime, name: str) -> str:
    if value.tzinfo is None:
        raise ValueError(f"{name} {value.isoformat()} has no time zone; AvidConnect times are absolute (use UTC)")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _vendor_key(item: Mapping[str, Any]) -> str | None:
    code = item.get("ExternalVendorCode")
    return code if isinstance(code, str) else None


def _code_key(item: Mapping[str, Any]) -> str | None:
    group, value = item.get("GroupName"), item.get("CodeValue")
    return f"{group}/{value}" if isinstance(group, str) and isinstance(value, str) else None


def avid_transport(connection: AvidConnection) -> httpx.BaseTransport:
    """System CAs (plus ``ca_bundle_pem`` if set), TLS 1.2+, at most ``max_in_flight`` connections."""
    context = system_trust(connection.ca_bundle_pem)
    limits = httpx.Limits(max_connections=connection.max_in_flight, max_keepalive_connections=connection.max_in_flight)
    return httpx.HTTPTransport(verify=context, limits=limits, trust_env=False)


class AvidClient(PooledClient):
    """A pooled HTTPS client for one customer's AvidConnect company. Implements ``ports.AvidConnect``; safe to call
    from several threads at once.

    At most ``max_in_flight`` requests run at once (the connection pool's size); further calls wait for a free
    connection up to the pool timeout. Every attempt first takes its turn from ``pacer`` (by default paced at the
    connection's ``requests_per_second``), which 429s slow down and ``Retry-After`` pauses for every thread, then
    its turn on the customer's schedule shared with its other invocations (``shared_turns``), when given.
    """

    call_latency_metric = "AvidCallLatency"

    def __init__(
        self,
        connection: AvidConnection,
        company_token: str,
        user_token: str,
        *,
        retry_policy: BackoffPolicy | None = None,
        pacer: Pacer | None = None,
        shared_turns: SharedTurns | None = None,
        max_spooled_image_bytes: int = MAX_SPOOLED_IMAGE_BYTES,
        spool_directory: str | None = None,
        logger: Logger | None = None,
    ) -> None:
        self._connection = connection
        self._retry = retry_policy or BackoffPolicy()
        self._pacer = pacer or Pacer(connection.requests_per_second, connection.request_burst)
        self._shared_turns = shared_turns
        self._max_spooled_image_bytes = max_spooled_image_bytes
        self._spool_directory = spool_directory
        self._log: Logger = logger or logging.getLogger(__name__)
        self._scrubber = Scrubber(
            [company_token, user_token], [connection.company_token_header, connection.user_token_header]
        )
        self._http = httpx.Client(
            base_url=connection.base_url,
            transport=avid_transport(connection),
            headers={
                connection.company_token_header: company_token,
                connection.user_token_header: user_token,
                "Accept": "application/json",
            },
            timeout=connection.timeouts.as_httpx(),
            follow_redirects=False,
            trust_env=False,
        )

    # -- the port -------------------------------------------------------------------------------------------

    def company(self) -> AvidCompany:
        return self._model(AvidCompany, self._call("GET", "/v1/company", what="AvidXchange company"))

    def upsert_vendors(self, vendors: Sequence[AvidVendor]) -> list[BatchItemResult]:
        return self._upsert(vendors, "/v1/vendors/batch", VENDOR_BATCH_SIZE, _vendor_key, "vendors")

    def find_vendor(self, external_vendor_code: str) -> AvidVendorRecord | None:
        found = self._list(AvidVendorRecord, "/v1/vendors", {"externalVendorCode": external_vendor_code})
        return next((v for v in found if v.external_vendor_code == external_vendor_code), None)

    def iter_vendors(self, *, last_modified_from: dt.datetime | None = None) -> Iterator[AvidVendorRecord]:
        params = {} if last_modified_from is None else {"lastModifiedFrom": _iso(last_modified_from, "from")}
        return self._list(AvidVendorRecord, "/v1/vendors", params)

    def upsert_enterprise_codes(self, codes: Sequence[EnterpriseCode]) -> list[BatchItemResult]:
        return self._upsert(
            codes, "/v1/enterpriseCodes/batch", ENTERPRISE_CODE_BATCH_SIZE, _code_key, "enterprise codes"
        )

    def iter_enterprise_codes(self, *, group_name: str | None = None) -> Iterator[EnterpriseCodeRecord]:
        params = {} if group_name is None else {"groupName": group_name}
        return self._list(EnterpriseCodeRecord, "/v1/enterpriseCodes", params)

    def create_invoice(self, invoice: NewInvoice) -> AvidInvoice:
        what = f"invoice {invoice.key}"
        response = self._call(
            "POST", "/v1/invoices", what=what, json_body=invoice.model_dump(mode="json"), idempotent=False
        )
        return self._model(AvidInvoice, response)

    def find_invoices(self, *, vendor_external_code: str, number: str) -> list[AvidInvoice]:
        params = {"vendorExternalCode": vendor_external_code, "number": number}
        return list(self._list(AvidInvoice, "/v1/invoices", params))

    def get_invoice(self, invoice_id: str) -> AvidInvoice | None:
        path = f"/v1/invoices/{quote(invoice_id, safe='')}"
        response = self._call("GET", path, what=f"invoice {invoice_id}", missing_ok=True)
        return None if response is None else self._model(AvidInvoice, response)

    def iter_invoices(self, *, last_changed_from: dt.datetime | None = None) -> Iterator[AvidInvoice]:
        params = {} if last_changed_from is None else {"lastChangedFrom": _iso(last_changed_from, "from")}
        return self._list(AvidInvoice, "/v1/invoices", params)

    def upload_invoice_image(
        self, invoice_id: str, *, filename: str, content_type: str, content: Iterable[bytes]
    ) -> None:
        """Streams ``content``, reading it once: the chunks are copied to a temp file as they go, so a failed attempt
        is sent again from there. Any failure may be repeated, since a second upload replaces the first. An image
        over ``max_spooled_image_bytes`` is not copied: a failed upload of it is not repeated here, retry the record.
        """
        spooled = SpooledChunks(content, max_bytes=self._max_spooled_image_bytes, directory=self._spool_directory)
        with spooled:
            self._call(
                "POST",
                f"/v1/invoices/{quote(invoice_id, safe='')}/image",
                what=f"image {filename!r} of invoice {invoice_id}",
                files=lambda: {"file": (filename, IterableReader(spooled), content_type)},
                replayable=lambda: spooled.replayable,
            )

    def payment_windows(self, *, modified_from: dt.datetime, modified_to: dt.datetime) -> Iterator[PaymentWindow]:
        """The payments modified in [modified_from, modified_to], in time order, as windows each read whole in one
        page: a window whose payments do not fit one page is split in halves until they do.

        Page numbers over a window cannot be trusted: a payment that changes between two page reads leaves the
        window and shifts every later payment up a place, so one would never be read. A window read in one page is
        a snapshot; a payment that changes meanwhile moves past the end of the pass and is read by the next.
        """
        start, end = _iso(modified_from, "modified_from"), _iso(modified_to, "modified_to")
        if modified_to < modified_from:
            raise ValueError(f"payments window {start}..{end} ends before it starts")
        spans = _spans(modified_from, modified_to)

        def read_first(span: tuple[dt.datetime, dt.datetime]) -> tuple[list[PaymentWindow], Iterator[PaymentWindow]]:
            windows = self._whole_windows(*span)
            return list(itertools.islice(windows, 1)), windows

        # Up to max_in_flight spans are read ahead at once (a first run may cover many), each up to its first window
        # (an empty span is all read then): each window is a snapshot, so reading them out of order changes nothing,
        # and they are handed over in time order. The rest of a busy span is read as it is consumed, so memory holds
        # a window per span ahead, not every payment of a busy month.
        with ThreadPoolExecutor(max_workers=self._connection.max_in_flight, thread_name_prefix="payments") as pool:
            ahead: deque[Future[tuple[list[PaymentWindow], Iterator[PaymentWindow]]]] = deque()
            upcoming = iter(spans)
            for span in itertools.islice(upcoming, self._connection.max_in_flight):
                ahead.append(pool.submit(read_first, span))
            for span_start, _ in spans:
                first, rest = ahead.popleft().result()
                following = next(upcoming, None)
                if following is not None:
                    ahead.append(pool.submit(read_first, following))
                for window in itertools.chain(first, rest):
                    # Spans share their boundary instant: a payment modified exactly then was in the span before.
                    yield window if span_start == modified_from else window.after(span_start)

    def iter_payments(self, *, modified_from: dt.datetime, modified_to: dt.datetime) -> Iterator[AvidPayment]:
        """The payments modified in [modified_from, modified_to], each once (contract breakers left out)."""
        for window in self.payment_windows(modified_from=modified_from, modified_to=modified_to):
            yield from window.items

    def _whole_windows(self, start: dt.datetime, end: dt.datetime) -> Iterator[PaymentWindow]:
        first = self._payments_page(start, end, 1)
        if first.page_count <= 1 or end - start <= MIN_PAYMENT_WINDOW:
            pages = [first, *(self._payments_page(start, end, n) for n in range(2, first.page_count + 1))]
            yield _window(start, end, pages)
            return
        # Only a probe: its page is read again in the halves. Kept in this suspended frame, every level of a deep
        # split held a whole page (about 45 MiB at 870 payments paid within a second).
        del first
        middle = start + (end - start) / 2
        middle = middle.replace(microsecond=0)
        yield from self._whole_windows(start, middle)
        # The halves share their boundary second: a payment modified exactly then was in the left half already.
        for window in self._whole_windows(middle, end):
            yield window.after(middle)

    def _payments_page(self, start: dt.datetime, end: dt.datetime, page_number: int) -> _PaymentsPage:
        what = f"/v1/payments {_iso(start, 'from')}..{_iso(end, 'to')} page {page_number}"
        query = {
            "lastModifiedFrom": _iso(start, "from"),
            "lastModifiedTo": _iso(end, "to"),
            "pageNumber": str(page_number),
            "pageSize": str(self._connection.page_size),
        }
        body = self._json(self._call("GET", "/v1/payments", what=what, params=query))
        raw_items = body.get("Items") if isinstance(body, dict) else None
        paging = body.get("Paging") if isinstance(body, dict) else None
        page_count = paging.get("PageCount") if isinstance(paging, dict) else None
        if not isinstance(raw_items, list) or not isinstance(page_count, int):
            raise AvidContractViolation(f"{what}: the answer has no Items list or no Paging.PageCount")
        items: list[AvidPayment] = []
        invalid: list[InvalidPayment] = []
        for raw in raw_items:
            try:
                items.append(AvidPayment.model_validate(raw))
            except ValidationError as exc:
                payment_id = str(raw.get("PaymentId", "?")) if isinstance(raw, dict) else "?"
                invalid.append(
                    InvalidPayment(payment_id=payment_id, errors=self._scrubber.scrub(validation_summary(exc)))
                )
        return _PaymentsPage(items=items, invalid=invalid, page_count=page_count)

    def get_payment(self, payment_id: str) -> AvidPayment | None:
        path = f"/v1/payments/{quote(payment_id, safe='')}"
        response = self._call("GET", path, what=f"payment {payment_id}", missing_ok=True)
        if response is None:
            return None
        try:
            return AvidPayment.model_validate(self._json(response))
        except ValidationError as exc:  # one payment's problem, not the customer's
            raise AvidRejected(
                self._scrubber.scrub(
                    f"payment {payment_id} breaks the AvidConnect contract ({validation_summary(exc)})"
                )
            ) from None

    # -- batches and lists ----------------------------------------------------------------------------------

    def _upsert(
        self,
        records: Sequence[K],
        path: str,
        batch_size: int,
        key_of: Callable[[Mapping[str, Any]], str | None],
        what: str,
    ) -> list[BatchItemResult]:
        results: list[BatchItemResult] = []
        for start in range(0, len(records), batch_size):
            chunk = records[start : start + batch_size]
            label = f"{what} batch {start + 1}..{start + len(chunk)} of {len(records)}"
            body = {"Items": [record.model_dump(mode="json") for record in chunk]}
            response = self._call("POST", path, what=label, json_body=body)
            answered = [
                result.model_copy(update={"errors": [self._scrubber.scrub(e) for e in result.errors]})
                for result in self._model_list(BatchItemResult, self._json(response), "Results", label)
            ]
            results += self._align(chunk, answered, key_of)
        return results

    @staticmethod
    def _align(
        chunk: Sequence[K], answered: list[BatchItemResult], key_of: Callable[[Mapping[str, Any]], str | None]
    ) -> list[BatchItemResult]:
        """One result per input item, in input order; an item AvidXchange did not answer for becomes a failure."""
        in_order = len(answered) == len(chunk) and all(
            key_of(result.item) in (None, record.key) for result, record in zip(answered, chunk, strict=True)
        )
        if in_order:
            return answered
        by_key = {key: result for result in answered if (key := key_of(result.item)) is not None}
        return [
            by_key.get(record.key)
            or BatchItemResult(
                successful=False,
                errors=[f"AvidXchange returned no result for {record.key}; it may not be saved, send it again"],
                item=record.model_dump(mode="json", include=_key_fields(record)),
            )
            for record in chunk
        ]

    def _list(self, model: type[B], path: str, params: Mapping[str, str]) -> Iterator[B]:
        page_number = 1
        while True:
            what = f"{path} page {page_number}"
            query = {**params, "pageNumber": str(page_number), "pageSize": str(self._connection.page_size)}
            body = self._json(self._call("GET", path, what=what, params=query))
            items = self._model_list(model, body, "Items", what)
            yield from items
            paging = body.get("Paging") if isinstance(body, dict) else None
            page_count = paging.get("PageCount") if isinstance(paging, dict) else None
            if not isinstance(page_count, int):
                raise AvidContractViolation(f"{what}: the answer has no Paging.PageCount")
            if not items or page_number >= page_count:
                return
            page_number += 1

    # -- requests and their failures ----------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        files: Callable[[], Mapping[str, Any]] | None = None,
        missing_ok: bool = False,
        idempotent: bool = True,
        replayable: Callable[[], bool] = lambda: True,
    ) -> httpx.Response | None:
        """Send with retries; None for a 404 when ``missing_ok``.

        ``idempotent=False``: once the request may have reached AvidXchange, a failure raises ``OutcomeUnknown``
        instead of repeating it. ``files`` builds each attempt's multipart body. ``replayable``, asked after a
        failed attempt: whether the body can be sent again; if not, the failure is final.
        """

        def attempt() -> httpx.Response | None:
            permit = self._turn(what)
            try:
                response = self._http.request(
                    method, path, params=params, json=json_body, files=None if files is None else files()
                )
            except httpx.HTTPError as exc:
                detail = self._scrubber.scrub(f"{exc.__class__.__name__}: {exc}")
                if not idempotent and not isinstance(exc, _UNSENT):
                    raise OutcomeUnknown(
                        f"{what}: the connection failed after the request was sent ({detail}); it may have been "
                        "created: look it up before sending it again"
                    ) from None
                raise TransientFailure(RetryLater(f"{what}: AvidXchange did not answer ({detail})")) from None
            self._adjust_pace(response, permit)
            if response.is_success:
                return response
            self._raise_for_status(response, what, missing_ok=missing_ok, idempotent=idempotent)
            return None

        def attempt_while_replayable() -> httpx.Response | None:
            try:
                return attempt()
            except TransientFailure as failure:
                if replayable():
                    raise
                reason = str(failure.give_up).removeprefix(f"{what}: ")
                self._log.warning(self._scrubber.scrub(f"{what}: not repeated, the body was not kept: {reason}"))
                raise failure.give_up from None

        return self._retry.run(attempt_while_replayable, what=what, logger=self._log, scrub=self._scrubber.scrub)

    def _turn(self, what: str) -> Permit:
        """Wait for this call's turn under the rate limit, as long as the retry policy would wait at most."""
        try:
            permit = self._pacer.acquire(max_wait=self._retry.max_total_wait)
            if self._shared_turns is not None:
                self._shared_turns.wait(max_wait=self._retry.max_total_wait)
            return permit
        except TooLongToWait as far:
            raise RetryLater(
                f"{what}: not sent, the next call to AvidXchange is due in {far.wait:.1f}s (rate limit); retry later",
                retry_after=far.wait,
            ) from None

    def _adjust_pace(self, response: httpx.Response, permit: Permit) -> None:
        status = response.status_code
        if response.is_success:
            self._pacer.succeeded()
        elif status == 429:
            self._pacer.throttled(permit, parse_retry_after(response.headers.get("Retry-After")))
        elif status == 503 and (retry_after := parse_retry_after(response.headers.get("Retry-After"))) is not None:
            self._pacer.pause(retry_after)

    def _raise_for_status(self, response: httpx.Response, what: str, *, missing_ok: bool, idempotent: bool) -> None:
        """Raise what a failed answer means; return only for a 404 the caller accepts."""
        status = response.status_code
        reason = self._reason(response)
        if status == 404 and missing_ok:
            return
        if status in (401, 403):
            raise AvidAuthFailed(
                f"{what}: AvidXchange refused the company or user token ({status}: {reason}); generate new tokens "
                "in AvidSuite (System Setup > Account Information > Connections > API) and update the secret"
            )
        # A 429 is refused before any work; a 503 may come from a proxy after AvidXchange created the record, so for
        # a create it is as unknown as any other 5xx (retrying it blindly made duplicates in the chaos suite).
        if status == 429 or (status == 503 and idempotent):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            label = "rate limit reached" if status == 429 else "AvidXchange unavailable"
            raise TransientFailure(
                RetryLater(f"{what}: {label} ({status}: {reason}); retry later", retry_after=retry_after),
                retry_after=retry_after,
            )
        if status >= 500:
            if not idempotent:
                raise OutcomeUnknown(
                    f"{what}: AvidXchange failed ({status}: {reason}) and may have created it; "
                    "look it up before sending it again"
                )
            raise TransientFailure(RetryLater(f"{what}: AvidXchange failed ({status}: {reason}); retry later"))
        raise AvidRejected(f"{what}: AvidXchange refused it ({status}: {reason}); fix the record and replay it")

    def _reason(self, response: httpx.Response) -> str:
        try:
            body = json.loads(response.content)
        except ValueError:
            return self._scrubber.scrub(response.reason_phrase)
        exception = body.get("exception") if isinstance(body, dict) else None
        if not isinstance(exception, dict):
            return self._scrubber.scrub(response.reason_phrase)
        parts = [str(exception[k]) for k in ("reason", "detail") if exception.get(k)]
        if exception.get("avidMessageId"):
            parts.append(f"avidMessageId {exception['avidMessageId']}")
        return self._scrubber.scrub(" - ".join(parts) or response.reason_phrase)

    # -- bodies ---------------------------------------------------------------------------------------------

    def _json(self, response: httpx.Response | None) -> Any:
        assert response is not None  # only keyed reads ask for missing_ok
        try:
            return response.json()
        except ValueError:
            raise AvidContractViolation(f"{response.request.url.path}: the answer is not JSON") from None

    def _model(self, model: type[B], response: httpx.Response | None) -> B:
        data = self._json(response)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise AvidContractViolation(
                self._scrubber.scrub(
                    f"{model.__name__}: the answer does not match the contract ({validation_summary(exc)})"
                )
            ) from None

    def _model_list(self, model: type[B], body: Any, field: str, what: str) -> list[B]:
        items = body.get(field) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise AvidContractViolation(f"{what}: the answer has no {field!r} list")
        try:
            return [model.model_validate(item) for item in items]
        except ValidationError as exc:
            raise AvidContractViolation(
                self._scrubber.scrub(f"{what}: an item does not match the contract ({validation_summary(exc)})")
            ) from None


def _spans(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """[start, end] cut into windows of at most PAYMENT_WINDOW (the contract's limit), sharing their boundaries."""
    spans = [(start, min(start + PAYMENT_WINDOW, end))]
    while spans[-1][1] < end:
        spans.append((spans[-1][1], min(spans[-1][1] + PAYMENT_WINDOW, end)))
    return spans


@dataclasses.dataclass(frozen=True)
class _PaymentsPage:
    items: list[AvidPayment]
    invalid: list[InvalidPayment]
    page_count: int


def _window(start: dt.datetime, end: dt.datetime, pages: Sequence[_PaymentsPage]) -> PaymentWindow:
    return PaymentWindow(
        modified_from=start,
        modified_to=end,
        items=[p for page in pages for p in page.items],
        invalid=[p for page in pages for p in page.invalid],
    )


def _key_fields(record: AvidVendor | EnterpriseCode) -> set[str]:
    return {"external_vendor_code"} if isinstance(record, AvidVendor) else {"group_name", "code_value"}
