"""Avid client behaviour the simulator is too well-behaved to show: MockTransport."""

from __future__ import annotations

import datetime as dt
import gc
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from ml_connector.adapters import avid_client
from ml_connector.adapters.avid_client import AvidClient
from ml_connector.adapters.backoff import BackoffPolicy
from ml_connector.connections import AvidConnection
from ml_connector.domain.avid import AvidPayment, AvidVendor
from ml_connector.errors import AvidAuthFailed, AvidRejected, OutcomeUnknown

from .conftest import FakeTime
from .test_avid_client_live import new_invoice
from .test_avid_models import PAYMENT

Handler = Callable[[httpx.Request], httpx.Response]
TOKENS = ("unit-company-token", "unit-user-token")


@pytest.fixture
def serve(
    monkeypatch: pytest.MonkeyPatch, policy_for: Callable[..., BackoffPolicy]
) -> Iterator[Callable[..., AvidClient]]:
    clients: list[AvidClient] = []

    def build(handler: Handler, page_size: int = 500) -> AvidClient:
        monkeypatch.setattr(avid_client, "avid_transport", lambda _: httpx.MockTransport(handler))
        connection = AvidConnection(base_url="https://avid.test", page_size=page_size)
        client = AvidClient(connection, *TOKENS, retry_policy=policy_for())
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def json_response(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode())


def page(items: list[dict[str, Any]], number: int = 1, count: int = 1) -> dict[str, Any]:
    return {"Items": items, "Paging": {"PageNumber": number, "PageSize": 500, "PageCount": count, "TotalItems": 0}}


def test_batch_results_missing_or_out_of_order_are_realigned_to_the_input(
    serve: Callable[[Handler], AvidClient],
) -> None:
    answer = {
        "Results": [
            {"Successful": True, "Errors": [], "Item": {"Id": "V-3", "ExternalVendorCode": "01-C"}},
            {
                "Successful": False,
                "Errors": [{"Message": "Name is required (token unit-company-token)"}],
                "Item": {"ExternalVendorCode": "01-A"},
            },
        ]
    }
    client = serve(lambda _: json_response(200, answer))
    vendors = [AvidVendor(external_vendor_code=code, name="x") for code in ("01-A", "01-B", "01-C")]
    results = client.upsert_vendors(vendors)
    assert [(r.successful, r.item.get("ExternalVendorCode")) for r in results] == [
        (False, "01-A"),
        (False, "01-B"),
        (True, "01-C"),
    ]
    assert "no result for 01-B" in results[1].errors[0]
    assert results[0].errors == ["Name is required (token ***)"]


def test_headers_carry_both_tokens(serve: Callable[[Handler], AvidClient]) -> None:
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return json_response(200, {"CompanyId": "C-1", "Name": "Acme"})

    serve(handler).company()
    assert (seen[0]["X-Company-Token"], seen[0]["X-User-Token"]) == TOKENS


@pytest.mark.parametrize("status", [400, 404, 409, 413, 422])
def test_client_errors_are_never_retried(
    serve: Callable[[Handler], AvidClient], fake_time: FakeTime, status: int
) -> None:
    body = {"exception": {"avidMessageId": "m-1", "reason": "Invalid", "detail": "GrossAmount is required"}}
    client = serve(lambda _: json_response(status, body))
    with pytest.raises(AvidRejected, match="GrossAmount is required"):
        client.create_invoice(new_invoice("X-1"))
    assert fake_time.sleeps == []


def test_forbidden_is_an_auth_failure(serve: Callable[[Handler], AvidClient]) -> None:
    with pytest.raises(AvidAuthFailed):
        serve(lambda _: json_response(403, {})).company()


def test_invoice_create_is_retried_when_the_connection_never_opened(
    serve: Callable[[Handler], AvidClient], fake_time: FakeTime
) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return json_response(201, {**new_invoice("X-2").model_dump(mode="json"), "Id": "I-1", "Status": "Received"})

    assert serve(handler).create_invoice(new_invoice("X-2")).id == "I-1"
    assert len(calls) == 2


def test_invoice_create_after_a_dropped_answer_is_outcome_unknown(serve: Callable[[Handler], AvidClient]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)

    with pytest.raises(OutcomeUnknown):
        serve(handler).create_invoice(new_invoice("X-3"))


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_an_invoice_create_answered_5xx_is_sent_once_and_outcome_unknown(
    serve: Callable[[Handler], AvidClient], status: int
) -> None:
    # A proxy may answer 503 after AvidXchange created the invoice: repeating the POST would create it twice.
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return json_response(status, {"exception": {"reason": "upstream", "detail": ""}})

    with pytest.raises(OutcomeUnknown):
        serve(handler).create_invoice(new_invoice("X-5"))
    assert sent == ["/v1/invoices"]


class PaymentList:
    """A payments endpoint as AvidXchange pages it: by LastModifiedDate within the window, by page number."""

    def __init__(self, modified: dict[str, dt.datetime], page_size: int) -> None:
        self.modified = modified
        self.page_size = page_size
        self.asked: list[tuple[str, str, int]] = []
        self.after_first_read: Callable[[], None] = lambda: None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.url.query.decode())
        start, end = (dt.datetime.fromisoformat(query[k][0]) for k in ("lastModifiedFrom", "lastModifiedTo"))
        number = int(query["pageNumber"][0])
        self.asked.append((query["lastModifiedFrom"][0], query["lastModifiedTo"][0], number))
        found = sorted((at, pid) for pid, at in self.modified.items() if start <= at <= end)
        chunk = found[(number - 1) * self.page_size : number * self.page_size]
        items = [{**PAYMENT, "PaymentId": pid, "LastModifiedDate": at.isoformat()} for at, pid in chunk]
        count = max(1, -(-len(found) // self.page_size))
        if len(self.asked) == 1:
            self.after_first_read()
        return json_response(200, page(items, number, count))


def test_payments_are_fetched_in_windows_of_at_most_30_days_each_payment_once(
    serve: Callable[[Handler], AvidClient],
) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    boundary = dt.datetime(2026, 1, 31, tzinfo=dt.UTC)  # the instant two windows share
    server = PaymentList({"P-1": start + dt.timedelta(days=3), "P-2": boundary}, page_size=500)
    payments = list(serve(server).iter_payments(modified_from=start, modified_to=start + dt.timedelta(days=65)))
    # The windows are read ahead concurrently (in any order); the payments come out in time order.
    assert sorted((f, t) for f, t, _ in server.asked) == [
        ("2026-01-01T00:00:00Z", "2026-01-31T00:00:00Z"),
        ("2026-01-31T00:00:00Z", "2026-03-02T00:00:00Z"),
        ("2026-03-02T00:00:00Z", "2026-03-07T00:00:00Z"),
    ]
    assert [p.payment_id for p in payments] == ["P-1", "P-2"]


def test_a_long_first_pass_reads_its_windows_several_at_once(serve: Callable[[Handler], AvidClient]) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    server = PaymentList({"P-1": start + dt.timedelta(days=3), "P-9": start + dt.timedelta(days=100)}, page_size=500)
    # Each of the first four reads waits for the other three: read one after another, they would never all arrive.
    together = threading.Barrier(AvidConnection(base_url="https://avid.test").max_in_flight, timeout=30)

    def answer(request: httpx.Request) -> httpx.Response:
        if len(server.asked) < together.parties:
            together.wait()
        return server(request)

    client = serve(answer)
    payments = list(client.iter_payments(modified_from=start, modified_to=start + dt.timedelta(days=120)))
    assert len(server.asked) == 4 and [p.payment_id for p in payments] == ["P-1", "P-9"]


def test_a_payment_changing_while_the_list_is_read_never_hides_another(
    serve: Callable[..., AvidClient],
) -> None:
    # Seven settled payments on pages of two. Paged by page number, the first one turning Cleared after the first
    # page was read (its LastModifiedDate moves past the window) shifted every later payment up a place, and the
    # first payment of page 2 was never read. Windows read whole cannot shift.
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    modified = {f"P-{n}": start + dt.timedelta(hours=n) for n in range(1, 8)}
    server = PaymentList(modified, page_size=2)
    server.after_first_read = lambda: modified.update({"P-1": start + dt.timedelta(days=20)})
    client = serve(server, 2)
    windows = list(client.payment_windows(modified_from=start, modified_to=start + dt.timedelta(days=1)))

    read = [p.payment_id for w in windows for p in w.items]
    assert sorted(set(read) - {"P-1"}) == [f"P-{n}" for n in range(2, 8)], "no payment that stayed put is missed"
    assert len(read) == len(set(read)), "and none is read twice"
    assert all(w.modified_from < w.modified_to for w in windows)
    assert [w.modified_from for w in windows] == sorted(w.modified_from for w in windows), "windows go in time order"


def test_a_busy_month_is_read_window_by_window_as_it_is_consumed_not_all_ahead(
    serve: Callable[..., AvidClient],
) -> None:
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    server = PaymentList({f"P-{n}": start + dt.timedelta(hours=n) for n in range(1, 17)}, page_size=2)
    windows = serve(server, 2).payment_windows(modified_from=start, modified_to=start + dt.timedelta(days=1))

    first = next(windows)
    read_for_the_first = len(server.asked)
    rest = list(windows)

    assert [p.payment_id for p in first.items] == ["P-1", "P-2"][: len(first.items)], "in time order"
    assert len(rest) >= 7, "sixteen payments on pages of two"
    assert read_for_the_first <= 6, "only the probes down to the first window were read before it was handed over"
    assert len(server.asked) >= read_for_the_first + len(rest), "each later window read when it was asked for"


def live_payments() -> int:
    gc.collect()
    return sum(isinstance(o, AvidPayment) for o in gc.get_objects())


def test_a_window_split_many_times_keeps_only_its_own_payments_in_memory(serve: Callable[..., AvidClient]) -> None:
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    server = PaymentList({f"P-{n}": start + dt.timedelta(minutes=n) for n in range(1, 65)}, page_size=4)
    before = live_payments()
    windows = serve(server, 4).payment_windows(modified_from=start, modified_to=start + dt.timedelta(days=1))

    first = next(windows)

    assert len(server.asked) >= 8, "split over and over: every probe read a full page"
    assert live_payments() - before == len(first.items), "the probes' pages are not held while the halves are read"


def test_a_payment_with_an_unknown_status_is_listed_as_invalid_not_fatal(serve: Callable[..., AvidClient]) -> None:
    odd = {**PAYMENT, "PaymentId": "P-ODD", "Status": {"Id": 9, "Description": "Wired"}}

    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(200, page([PAYMENT, odd]))

    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    (window,) = serve(handler).payment_windows(modified_from=start, modified_to=start + dt.timedelta(days=1))
    assert [p.payment_id for p in window.items] == ["P-7781234"]
    assert [i.payment_id for i in window.invalid] == ["P-ODD"] and "Status.Description" in window.invalid[0].errors


def test_listing_follows_page_count(serve: Callable[[Handler], AvidClient]) -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        number = int(parse_qs(request.url.query.decode())["pageNumber"][0])
        asked.append(str(number))
        code = {"GroupName": "Cost Center", "CodeValue": f"{number:03d}", "IsActive": True}
        return json_response(200, page([code], number, 3))

    codes = [c.code_value for c in serve(handler).iter_enterprise_codes(group_name="Cost Center")]
    assert codes == ["001", "002", "003"]
    assert asked == ["1", "2", "3"]
