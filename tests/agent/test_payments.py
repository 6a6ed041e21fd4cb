"""POST /ap/payments: manual checks, their rules, duplicates, locks, concurrency, and nothing written on failure."""

from __future__ import annotations

import datetime as dt
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from decimal import Decimal
from itertools import count
from typing import Any

import httpx
import pytest

from sage_agent.backend import Busy
from sage_agent.records import InvoiceHeaderFields, ManualCheck, OpenInvoice
from sage_agent.simulated import SimulatedBackend
from sage_agent.simulated.store import INVOICE_TABLE, VENDOR_TABLE, Distribution
from sage_agent.testing import RunningAgent
from tests.agent.conftest import InvoicePicker, company_client

_check_numbers = count(500_000)


def check_body(agent: RunningAgent, invoice: OpenInvoice, amount: Decimal, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "BankCode": "A",
        "CheckNo": f"{next(_check_numbers):010d}",
        "CheckDate": agent.clock.now().strftime("%Y%m%d"),
        "APDivisionNo": invoice.APDivisionNo,
        "VendorNo": invoice.VendorNo,
        "PaymentMethod": "ach",
        "Reference": "091000019876543",
        "Comment": "AvidPay 7781234",
        "Lines": [{"InvoiceNo": invoice.InvoiceNo, "HeaderSeqNo": invoice.HeaderSeqNo, "AmountPaid": f"{amount:.2f}"}],
    }
    return body | changes


def invoice_path(invoice: OpenInvoice) -> str:
    return f"/ap/invoices/{invoice.APDivisionNo}/{invoice.VendorNo}/{invoice.InvoiceNo}"


def balance(client: httpx.Client, invoice: OpenInvoice) -> Decimal:
    return Decimal(client.get(invoice_path(invoice)).json()["Balance"])


def test_partial_payment_reduces_the_balance(
    client: httpx.Client, agent: RunningAgent, invoices: InvoicePicker
) -> None:
    invoice = invoices.take()
    body = check_body(agent, invoice, Decimal("50.00"))
    response = client.post("/ap/payments", json=body)
    assert response.status_code == 201
    result = response.json()
    assert result == {
        "BankCode": "A",
        "CheckNo": body["CheckNo"],
        "BatchNo": result["BatchNo"],
        "Posted": True,
        "CheckAmt": "50.00",
    }
    assert balance(client, invoice) == invoice.Balance - Decimal("50.00")
    recorded = client.get(f"/ap/payments/A/{body['CheckNo']}").json()
    assert recorded == {**body, "Lines": [{**body["Lines"][0], "DiscountAmt": "0.00"}], "Posted": True}


def test_paying_in_full_with_a_discount_closes_the_invoice(
    client: httpx.Client, agent: RunningAgent, invoices: InvoicePicker
) -> None:
    invoice = invoices.take()
    body = check_body(agent, invoice, invoice.Balance - Decimal("10.00"))
    body["Lines"][0]["DiscountAmt"] = "10.00"
    assert client.post("/ap/payments", json=body).status_code == 201
    assert client.get(invoice_path(invoice)).status_code == 404
    open_keys = {
        (i["VendorNo"], i["InvoiceNo"]) for i in client.get("/ap/invoices", params={"limit": 1000}).json()["items"]
    }
    assert (invoice.VendorNo, invoice.InvoiceNo) not in open_keys
    assert client.get(f"{invoice_path(invoice)}/image").status_code == 404


def test_one_check_can_pay_several_invoices(client: httpx.Client, agent: RunningAgent, invoices: InvoicePicker) -> None:
    first, second = invoices.take_two_of_one_vendor()
    body = check_body(agent, first, Decimal("20.00"))
    body["Lines"].append({"InvoiceNo": second.InvoiceNo, "HeaderSeqNo": "000000", "AmountPaid": "30.00"})
    response = client.post("/ap/payments", json=body)
    assert response.status_code == 201
    assert response.json()["CheckAmt"] == "50.00"
    assert balance(client, first) == first.Balance - 20
    assert balance(client, second) == second.Balance - 30


def test_duplicate_check_number_is_409_with_the_existing_check(
    client: httpx.Client, agent: RunningAgent, invoices: InvoicePicker
) -> None:
    invoice = invoices.take()
    body = check_body(agent, invoice, Decimal("5.00"))
    assert client.post("/ap/payments", json=body).status_code == 201
    again = client.post("/ap/payments", json={**body, "Comment": "a retry"})
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "already_exists"
    assert error["retryable"] is False
    assert error["existing"]["Comment"] == "AvidPay 7781234"
    assert error["existing"]["Posted"] is True
    assert balance(client, invoice) == invoice.Balance - 5, "the retry wrote nothing"
    assert client.post("/ap/payments", json={**body, "BankCode": "B"}).status_code == 201, "unique per bank code"


def assert_refused(response: httpx.Response, field: str, words: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["retryable"] is False
    messages = {f["field"]: f["message"] for f in error["fields"]}
    assert field in messages, messages
    assert words in messages[field]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"VendorNo": "NOBODY"}, "VendorNo", "does not exist"),
        ({"BankCode": "Z"}, "BankCode", "does not exist"),
        ({"CheckDate": "20200115"}, "CheckDate", "outside the AP period"),
    ],
)
def test_business_rules_refuse_with_field_messages(
    client: httpx.Client, agent: RunningAgent, invoices: InvoicePicker, changes: dict[str, Any], field: str, words: str
) -> None:
    invoice = invoices.take()
    body = check_body(agent, invoice, Decimal("1.00"), **changes)
    assert_refused(client.post("/ap/payments", json=body), field, words)
    assert client.get(f"/ap/payments/{body['BankCode']}/{body['CheckNo']}").status_code in (400, 404)
    assert balance(client, invoice) == invoice.Balance


def test_amount_over_the_open_balance_is_refused(
    client: httpx.Client, agent: RunningAgent, invoices: InvoicePicker
) -> None:
    invoice = invoices.take()
    response = client.post("/ap/payments", json=check_body(agent, invoice, invoice.Balance + Decimal("0.01")))
    assert_refused(response, "Lines[0].AmountPaid", "over the open balance")


def test_invoice_not_open_is_refused(client: httpx.Client, agent: RunningAgent, invoices: InvoicePicker) -> None:
    invoice = invoices.take()
    body = check_body(agent, invoice, Decimal("1.00"))
    body["Lines"][0]["InvoiceNo"] = "NOSUCHINV"
    assert_refused(client.post("/ap/payments", json=body), "Lines[0].InvoiceNo", "is not open")


def test_a_failed_line_writes_nothing_for_the_other_lines(
    client: httpx.Client, agent: RunningAgent, invoices: InvoicePicker
) -> None:
    first, second = invoices.take_two_of_one_vendor()
    body = check_body(agent, first, Decimal("10.00"))
    body["Lines"].append({"InvoiceNo": second.InvoiceNo, "AmountPaid": f"{second.Balance + 1:.2f}"})
    assert_refused(client.post("/ap/payments", json=body), "Lines[1].AmountPaid", "over the open balance")
    assert balance(client, first) == first.Balance
    assert client.get(f"/ap/payments/A/{body['CheckNo']}").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"CheckNo": "12345678901"}, "CheckNo"),
        ({"CheckDate": "20261340"}, "CheckDate"),
        ({"PaymentMethod": "wire"}, "PaymentMethod"),
        ({"PaymentMethod": "virtual_card", "Reference": "4111111111111111"}, "Reference"),
        ({"Lines": []}, "Lines"),
        ({"Lines": [{"InvoiceNo": "1", "AmountPaid": 12.5}]}, "Lines[0].AmountPaid"),
        ({"Lines": [{"InvoiceNo": "1", "AmountPaid": "12.5"}]}, "Lines[0].AmountPaid"),
        ({"Unexpected": "x"}, "Unexpected"),
    ],
)
def test_bad_bodies_are_422_with_field_messages(
    client: httpx.Client, agent: RunningAgent, invoices: InvoicePicker, changes: dict[str, Any], field: str
) -> None:
    invoice = invoices.take()
    body = check_body(agent, invoice, Decimal("1.00"), **changes)
    response = client.post("/ap/payments", json=body)
    assert response.status_code == 422, response.text
    assert field in {f["field"] for f in response.json()["error"]["fields"]}
    assert balance(client, invoice) == invoice.Balance


def test_missing_fields_are_named(client: httpx.Client) -> None:
    response = client.post("/ap/payments", json={"BankCode": "A"})
    assert response.status_code == 422
    assert {"CheckNo", "CheckDate", "VendorNo", "Lines"} <= {f["field"] for f in response.json()["error"]["fields"]}


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'"a string"', b""])
def test_unreadable_bodies_are_400(client: httpx.Client, content: bytes) -> None:
    response = client.post("/ap/payments", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("table", [INVOICE_TABLE, VENDOR_TABLE])
def test_a_locked_record_answers_423_with_retry_after_and_writes_nothing(
    client: httpx.Client, agent: RunningAgent, invoices: InvoicePicker, table: str
) -> None:
    invoice = invoices.take()
    key = (invoice.APDivisionNo, invoice.VendorNo, invoice.InvoiceNo)[: 3 if table == INVOICE_TABLE else 2]
    body = check_body(agent, invoice, Decimal("7.00"))
    with agent.backend.locked(table, *key, retry_after=3):
        response = client.post("/ap/payments", json=body)
        assert response.status_code == 423
        assert response.headers["retry-after"] == "3"
        error = response.json()["error"]
        assert error["code"] == "record_locked"
        assert error["retryable"] is True
        assert error["message"].startswith(f"Record/file busy: {table}")
        assert client.get(f"/ap/payments/A/{body['CheckNo']}").status_code == 404
        assert balance(client, invoice) == invoice.Balance
    assert client.post("/ap/payments", json=body).status_code == 201, "the retry after the lock succeeds"


def test_concurrent_posts_never_overpay_an_invoice(agent: RunningAgent, invoices: InvoicePicker) -> None:
    invoice = invoices.take()
    quarter = (invoice.Balance / 4).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    bodies = [check_body(agent, invoice, quarter) for _ in range(12)]
    with company_client(agent) as http, ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda body: http.post("/ap/payments", json=body).status_code, bodies))
    still_open = agent.backend.read_open_invoice(invoice.APDivisionNo, invoice.VendorNo, invoice.InvoiceNo)
    remaining = still_open.Balance if still_open else Decimal("0.00")
    assert sorted(statuses) == [201] * 4 + [422] * 8
    assert remaining == invoice.Balance - 4 * quarter
    assert remaining >= 0


def test_credit_memo_is_applied_with_a_negative_amount(
    client: httpx.Client, agent: RunningAgent, invoices: InvoicePicker
) -> None:
    invoice = invoices.take()
    memo = agent.backend.create_invoice(
        InvoiceHeaderFields.model_validate(
            invoice.model_dump(include=set(InvoiceHeaderFields.model_fields)) | {"InvoiceNo": "CM-77001"}
        ),
        [_distribution(invoice, Decimal("-40.00"))],
    )
    body = check_body(agent, invoice, Decimal("60.00"))
    body["Lines"].append({"InvoiceNo": memo.InvoiceNo, "AmountPaid": "-40.00"})
    response = client.post("/ap/payments", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["CheckAmt"] == "20.00"
    assert client.get(invoice_path(memo)).status_code == 404
    assert balance(client, invoice) == invoice.Balance - 60


def _distribution(invoice: OpenInvoice, amount: Decimal) -> Distribution:
    return Distribution(invoice.Lines[0].AccountKey, amount, "credit")


def test_unposted_checks_hold_the_balance_until_the_register_update(quiet_agent: RunningAgent) -> None:
    picker = InvoicePicker(quiet_agent)
    invoice = picker.take()
    with company_client(quiet_agent) as http:
        body = check_body(quiet_agent, invoice, invoice.Balance)
        response = http.post("/ap/payments", json=body)
        assert response.status_code == 201
        assert response.json()["Posted"] is False
        assert Decimal(http.get(invoice_path(invoice)).json()["Balance"]) == invoice.Balance
        again = http.post("/ap/payments", json=check_body(quiet_agent, invoice, Decimal("1.00")))
        assert_refused(again, "Lines[0].AmountPaid", "over the open balance 0.00")
        assert quiet_agent.backend.post_manual_checks() == 1
        assert http.get(invoice_path(invoice)).status_code == 404
        assert http.get(f"/ap/payments/A/{body['CheckNo']}").json()["Posted"] is True


def test_check_period_follows_the_ap_module_date(
    client: httpx.Client, agent: RunningAgent, invoices: InvoicePicker
) -> None:
    invoice = invoices.take()
    agent.backend.set_ap_module_date(dt.date(2026, 6, 15))
    try:
        start, end = agent.backend.check_period()
        assert (start, end) == (dt.date(2026, 5, 1), dt.date(2026, 7, 31))
        inside = check_body(agent, invoice, Decimal("1.00"), CheckDate="20260501")
        outside = check_body(agent, invoice, Decimal("1.00"), CheckDate="20260801")
        assert client.post("/ap/payments", json=inside).status_code == 201
        assert_refused(client.post("/ap/payments", json=outside), "CheckDate", "20260501..20260731")
    finally:
        agent.backend.set_ap_module_date(None)


def test_a_busy_company_database_answers_busy_and_writes_nothing(quiet_agent: RunningAgent) -> None:
    impatient = SimulatedBackend(quiet_agent.backend.db_path, clock=quiet_agent.clock, busy_timeout=0.05)
    invoice = InvoicePicker(quiet_agent).take()
    check = ManualCheck.model_validate(check_body(quiet_agent, invoice, Decimal("1.00")))
    with closing(sqlite3.connect(quiet_agent.backend.db_path)) as other_writer:
        other_writer.execute("BEGIN IMMEDIATE")
        with pytest.raises(Busy, match="busy") as raised:
            impatient.record_manual_check(check, post=True)
        other_writer.rollback()
    assert raised.value.retry_after > 0
    assert impatient.read_manual_check(check.BankCode, check.CheckNo) is None
