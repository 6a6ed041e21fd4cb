"""Agent client behaviour the real agent cannot be made to show (it never sends bad records): MockTransport."""

from __future__ import annotations

import email.utils
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from ml_connector.adapters import agent_client
from ml_connector.adapters.agent_client import AgentClient
from ml_connector.adapters.backoff import BackoffPolicy
from ml_connector.connections import AgentConnection
from ml_connector.domain.sage import RecordedManualCheck
from ml_connector.errors import AgentContractViolation, PaymentAlreadyExists, RetryLater, SageRecordInvalid

from .conftest import FakeTime
from .test_sage_models import invoice_json, vendor_json

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def serve(
    monkeypatch: pytest.MonkeyPatch, policy_for: Callable[..., BackoffPolicy]
) -> Iterator[Callable[[Handler], AgentClient]]:
    clients: list[AgentClient] = []

    def build(handler: Handler) -> AgentClient:
        monkeypatch.setattr(agent_client, "agent_transport", lambda *a, **k: httpx.MockTransport(handler))
        client = AgentClient(
            AgentConnection(base_url="https://agent.test", company="RCC"), "unit-agent-key", retry_policy=policy_for()
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)


def test_an_invalid_list_item_is_reported_not_dropped_and_not_fatal(serve: Callable[[Handler], AgentClient]) -> None:
    bad = vendor_json(VendorNo="TOOLONG99", TaxpayerIDSocialSecurityNo="861234567")
    good = vendor_json(VendorNo="GOOD")
    client = serve(lambda _: json_response(200, {"items": [good, bad], "next_cursor": "c2"}))
    page = client.vendors_page(updated_since=None)
    assert [v.vendor_no for v in page.items] == ["GOOD"]
    assert page.next_cursor == "c2"
    assert [r.key for r in page.invalid] == ["01-TOOLONG99"]
    assert any("VendorNo" in e for e in page.invalid[0].errors)
    assert "861234567" not in str(page.invalid)


def test_a_keyed_record_breaking_sage_rules_fails_that_record(serve: Callable[[Handler], AgentClient]) -> None:
    client = serve(lambda _: json_response(200, invoice_json(InvoiceNo="12345678901")))
    with pytest.raises(SageRecordInvalid, match="InvoiceNo"):
        client.open_invoice("01", "ACME", "12345678901")


def test_an_answer_that_is_not_json_is_a_contract_violation(serve: Callable[[Handler], AgentClient]) -> None:
    client = serve(lambda _: httpx.Response(200, content=b"<html>proxy login</html>"))
    with pytest.raises(AgentContractViolation, match="not JSON"):
        client.ping()


def test_paths_quote_sage_keys(serve: Callable[[Handler], AgentClient]) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return json_response(404, {"error": {"code": "not_found", "message": "no", "retryable": False}})

    assert serve(handler).open_invoice("01", "A/B", "INV 1") is None
    assert seen == ["/v1/companies/RCC/ap/invoices/01/A%2FB/INV%201"]


def test_retry_after_as_an_http_date_is_honoured(serve: Callable[[Handler], AgentClient], fake_time: FakeTime) -> None:
    answers = iter(
        [
            json_response(
                423,
                {"error": {"code": "record_locked", "message": "busy", "retryable": True}},
                {"Retry-After": email.utils.formatdate(time.time() + 45, usegmt=True)},
            ),
            json_response(200, {"items": [], "next_cursor": None}),
        ]
    )
    client = serve(lambda _: next(answers))
    assert client.vendors_page(updated_since=None).items == []
    assert len(fake_time.sleeps) == 1
    assert 35 < fake_time.sleeps[0] <= 45


def test_a_corrupted_image_download_raises_retry_later_at_the_end(serve: Callable[[Handler], AgentClient]) -> None:
    data = b"%PDF-1.4 real bytes"
    announced = hashlib.sha256(b"other bytes").hexdigest()
    client = serve(
        lambda _: httpx.Response(
            200, content=data, headers={"Content-Type": "application/pdf", "ETag": f'"{announced}"'}
        )
    )
    with client.invoice_image("01", "ACME", "10045") as image:
        assert image is not None
        assert image.sha256 == announced
        chunks = image.iter_bytes()
        assert next(chunks) == data
        with pytest.raises(RetryLater, match="corrupted"):
            next(chunks)


def test_409_with_an_unreadable_existing_check_is_a_contract_violation(
    serve: Callable[[Handler], AgentClient],
) -> None:
    client = serve(
        lambda _: json_response(409, {"error": {"code": "already_exists", "message": "dup", "existing": {"x": 1}}})
    )
    with pytest.raises(AgentContractViolation, match="existing"):
        client.manual_check("A", "1")


def test_a_post_retried_after_a_timeout_meets_the_first_one(
    serve: Callable[[Handler], AgentClient], fake_time: FakeTime
) -> None:
    existing = {
        "BankCode": "A",
        "CheckNo": "0000104522",
        "CheckDate": "20261120",
        "APDivisionNo": "01",
        "VendorNo": "ACME",
        "PaymentMethod": "check",
        "Reference": "",
        "Comment": "",
        "Lines": [{"InvoiceNo": "10045", "HeaderSeqNo": "000000", "AmountPaid": "1250.00", "DiscountAmt": "0.00"}],
        "Posted": True,
    }
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        body = {"error": {"code": "already_exists", "message": "exists", "retryable": False, "existing": existing}}
        return json_response(409, body)

    check = RecordedManualCheck.model_validate(existing)
    with pytest.raises(PaymentAlreadyExists) as caught:
        serve(handler).post_manual_check(check)
    assert calls == ["POST", "POST"]
    assert caught.value.existing == check
    assert len(fake_time.sleeps) == 1
