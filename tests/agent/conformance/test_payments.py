"""Manual checks every backend must record alike: posting, duplicates, refusals naming the field, locks."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.agent.conformance.conftest import unique
from tests.agent.conformance.targets import SageControls


def check_body(invoice_no: str, amount: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "BankCode": "A",
        "CheckNo": unique("C"),
        "CheckDate": dt.date.today().strftime("%Y%m%d"),
        "APDivisionNo": "01",
        "VendorNo": "ACME",
        "PaymentMethod": "ach",
        "Reference": "091000019876543",
        "Comment": "AvidPay 7781234",
        "Lines": [{"InvoiceNo": invoice_no, "HeaderSeqNo": "000000", "AmountPaid": amount}],
    }
    return body | changes


def invoice_balance(api: httpx.Client, invoice_no: str) -> str | None:
    response = api.get(f"/ap/invoices/01/ACME/{quote(invoice_no, safe='')}")
    return response.json()["Balance"] if response.status_code == 200 else None


def test_a_payment_is_posted_and_reduces_the_balance(api: httpx.Client, sage: SageControls) -> None:
    invoice_no = f"{unique('P')}/A"
    sage.enter_invoice("01", "ACME", invoice_no, Decimal("300.00"))
    body = check_body(invoice_no, "120.00")
    created = api.post("/ap/payments", json=body)
    assert created.status_code == 201, created.text
    result = created.json()
    assert result["Posted"] is True and result["CheckAmt"] == "120.00" and len(result["BatchNo"]) == 5
    assert invoice_balance(api, invoice_no) == "180.00"
    recorded = api.get(f"/ap/payments/A/{body['CheckNo']}").json()
    assert recorded["Posted"] is True
    assert recorded["Lines"][0]["InvoiceNo"] == invoice_no
    again = api.post("/ap/payments", json=body)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_exists"
    assert again.json()["error"]["existing"]["CheckNo"] == body["CheckNo"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"VendorNo": "NOBODY"}, "VendorNo"),
        ({"CheckDate": "20000103"}, "CheckDate"),
        ({"Lines": [{"InvoiceNo": "NOT-OPEN", "HeaderSeqNo": "000000", "AmountPaid": "1.00"}]}, "Lines[0].InvoiceNo"),
        (
            {"Lines": [{"InvoiceNo": "{invoice}", "HeaderSeqNo": "000000", "AmountPaid": "999.00"}]},
            "Lines[0].AmountPaid",
        ),
    ],
)
def test_refusals_name_the_field_and_write_nothing(
    api: httpx.Client, sage: SageControls, changes: dict[str, Any], field: str
) -> None:
    invoice_no = unique("R")
    sage.enter_invoice("01", "ACME", invoice_no, Decimal("50.00"))
    changes = copy.deepcopy(changes)
    for line in changes.get("Lines", []):
        line["InvoiceNo"] = line["InvoiceNo"].replace("{invoice}", invoice_no)
    body = check_body(invoice_no, "10.00", **changes)
    refused = api.post("/ap/payments", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "validation_failed"
    assert field in [f["field"] for f in refused.json()["error"]["fields"]]
    assert api.get(f"/ap/payments/A/{body['CheckNo']}").status_code == 404
    assert invoice_balance(api, invoice_no) == "50.00"


def test_a_locked_invoice_answers_423_and_writes_nothing(api: httpx.Client, sage: SageControls) -> None:
    invoice_no = unique("L")
    sage.enter_invoice("01", "ACME", invoice_no, Decimal("40.00"))
    body = check_body(invoice_no, "15.00")
    with sage.locked("AP_OpenInvoice", "01", "ACME", invoice_no):
        locked = api.post("/ap/payments", json=body)
        assert locked.status_code == 423
        assert locked.json()["error"]["code"] == "record_locked"
        assert int(locked.headers["retry-after"]) > 0
        assert api.get(f"/ap/payments/A/{body['CheckNo']}").status_code == 404
    assert api.post("/ap/payments", json=body).status_code == 201
    assert invoice_balance(api, invoice_no) == "25.00"
