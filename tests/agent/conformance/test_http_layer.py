"""The HTTP layer's own defects found by an independent conformance client, checked over every backend."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.agent.conformance.conftest import unique
from tests.agent.conformance.targets import SageControls

ARABIC_DATE = "".join(chr(0x0660 + int(d)) for d in dt.date.today().strftime("%Y%m%d"))
FULLWIDTH_ONE = "\uff11.\uff10\uff10"  # one, in fullwidth digits


def body(invoice_no: str = "10045", **changes: Any) -> dict[str, Any]:
    check: dict[str, Any] = {
        "BankCode": "A",
        "CheckNo": unique("H"),
        "CheckDate": dt.date.today().strftime("%Y%m%d"),
        "APDivisionNo": "01",
        "VendorNo": "ACME",
        "PaymentMethod": "check",
        "Reference": "",
        "Comment": "",
        "Lines": [{"InvoiceNo": invoice_no, "HeaderSeqNo": "000000", "AmountPaid": "1.00"}],
    }
    return check | changes


@pytest.mark.parametrize(
    "path", ["/no/such/thing", "/ap/invoices/01/ACME/10045/extra", "/ap/invoices/01/ACME/a/b/image", "/vendorz"]
)
def test_a_route_miss_has_its_own_code_never_not_found(api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_such_endpoint"


def test_an_encoded_slash_reaches_every_invoice_path(api: httpx.Client, sage: SageControls) -> None:
    invoice_no = f"{unique('E')}/B"
    sage.enter_invoice("01", "ACME", invoice_no, Decimal("10.00"))
    encoded = invoice_no.replace("/", "%2F")
    assert api.get(f"/ap/invoices/01/ACME/{encoded}").status_code == 200
    assert api.get(f"/ap/invoices/01/ACME/{encoded}/image").json()["error"]["code"] == "not_found"
    assert api.post("/ap/payments", json=body(invoice_no)).status_code == 201
    other = api.get("/ap/invoices/01/ACME/9%2F9%25%3F%23%20")
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"Lines": [{"InvoiceNo": "X", "HeaderSeqNo": "000000", "AmountPaid": FULLWIDTH_ONE}]}, "Lines[0].AmountPaid"),
        ({"Lines": [{"InvoiceNo": "X", "AmountPaid": "1.00", "DiscountAmt": "\u0660.00"}]}, "Lines[0].DiscountAmt"),
        ({"Lines": [{"InvoiceNo": "X", "HeaderSeqNo": "\u0660" * 6, "AmountPaid": "1.00"}]}, "Lines[0].HeaderSeqNo"),
        ({"CheckDate": ARABIC_DATE}, "CheckDate"),
        ({"APDivisionNo": "\u0660\u0661"}, "APDivisionNo"),
        ({"PaymentMethod": "virtual_card", "Reference": "\u0661\u0662\u0663\u0664"}, "Reference"),
    ],
)
def test_only_ascii_digits_are_digits(api: httpx.Client, changes: dict[str, Any], field: str) -> None:
    response = api.post("/ap/payments", json=body(**changes))
    assert response.status_code == 422, response.text
    assert field in [f["field"] for f in response.json()["error"]["fields"]]


@pytest.mark.parametrize(
    "query",
    [
        {"division": "\u0660\u0661"},
        {"invoice_date_from": ARABIC_DATE},
        {"updated_since": f"{ARABIC_DATE}T00:00:00"},
        {"limit": "\uff11\uff10"},
    ],
)
def test_non_ascii_digits_in_queries_are_bad_requests(api: httpx.Client, query: dict[str, str]) -> None:
    response = api.get("/ap/invoices", params=query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_a_non_ascii_division_in_a_path_is_a_bad_request(api: httpx.Client) -> None:
    assert api.get("/ap/invoices/\u0660\u0661/ACME/10045").status_code == 400


@pytest.mark.parametrize("field", ["Comment", "Reference"])
@pytest.mark.parametrize("text", ["Paid \U0001f600", "NUL\x00here", "tab\there", "line\nbreak", "\u4e2d\u6587"])
def test_text_sage_cannot_store_is_refused_naming_the_field(api: httpx.Client, field: str, text: str) -> None:
    response = api.post("/ap/payments", json=body(**{field: text}))
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["error"]["fields"]] == [field]
    assert "cannot be stored in Sage 100" in response.json()["error"]["message"]


def test_windows_1252_text_is_accepted(api: httpx.Client, sage: SageControls) -> None:
    invoice_no = unique("W")
    sage.enter_invoice("01", "ACME", invoice_no, Decimal("10.00"))
    response = api.post("/ap/payments", json=body(invoice_no, Comment="Caf\u00e9 \u2013 \u20ac5 \u201cok\u201d"))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "latin-1"])
def test_a_body_that_is_not_utf8_is_a_bad_request(api: httpx.Client, encoding: str) -> None:
    text = json.dumps(body(Comment="Café"), ensure_ascii=False)
    response = api.post("/ap/payments", content=text.encode(encoding), headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_request"
