from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from avid_sim.testing import RunningAvid

from .conftest import code, create_invoice, error_detail, invoice, seed_reference_data, vendor


@pytest.fixture(autouse=True)
def _reference_data(client: httpx.Client) -> None:
    seed_reference_data(client)


def test_create_answers_201_with_id_and_status_received(client: httpx.Client) -> None:
    created = create_invoice(client)
    assert created["Id"].startswith("I-")
    assert created["Status"] == "Received"
    assert created["GrossAmount"] == "1250.00"
    assert (created["AmountPaid"], created["Balance"]) == ("0.00", "1250.00")
    assert created["HasImage"] is False
    assert created["ImageSha256"] is None
    assert created["LastChangedDate"].endswith("Z")


def test_the_same_invoice_twice_makes_two_invoices(client: httpx.Client, avid: RunningAvid) -> None:
    first = create_invoice(client)
    second = create_invoice(client)
    assert first["Id"] != second["Id"]
    assert len(avid.state.find_invoices("01-ACME", "10045")) == 2
    found = client.get("/v1/invoices", params={"vendorExternalCode": "01-ACME", "number": "10045"}).json()
    assert sorted(i["Id"] for i in found["Items"]) == sorted([first["Id"], second["Id"]])


def post_rejected(client: httpx.Client, body: dict[str, Any]) -> str:
    response = client.post("/v1/invoices", json=body)
    assert response.status_code == 422, response.text
    return error_detail(response)


def test_unknown_vendor_is_refused(client: httpx.Client, avid: RunningAvid) -> None:
    detail = post_rejected(client, invoice(vendor_code="01-NOPE"))
    assert "invoice 01-NOPE/10045: vendor 01-NOPE does not exist" in detail
    assert avid.state.invoices == {}


def test_inactive_vendor_is_refused(client: httpx.Client) -> None:
    client.post("/v1/vendors/batch", json={"Items": [vendor("01-ACME", Active=False)]})
    assert "vendor 01-ACME is inactive" in post_rejected(client, invoice())


def test_unknown_and_inactive_codes_are_refused(client: httpx.Client) -> None:
    client.post("/v1/enterpriseCodes/batch", json={"Items": [code("300", "Cost Center", IsActive=False)]})
    body = invoice()
    body["Distributions"][1]["EnterpriseCodes"] = [code("9999")]
    detail = post_rejected(client, body)
    assert "Distributions[0]: Cost Center 300 is inactive" in detail
    assert "Distributions[1]: Accounting Codes 9999 does not exist" in detail


def test_a_distribution_needs_one_gl_account(client: httpx.Client) -> None:
    body = invoice()
    body["Distributions"][1]["EnterpriseCodes"] = [code("300", "Cost Center")]
    assert "Distributions[1] must name exactly one 'Accounting Codes' code" in post_rejected(client, body)


def test_distributions_must_add_up_to_the_gross_amount(client: httpx.Client) -> None:
    detail = post_rejected(client, invoice(GrossAmount="1300.00"))
    assert "Distributions add up to 1250.00, not GrossAmount 1300.00" in detail


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"InvoiceDate": "2026-02-30"}, "InvoiceDate"),
        ({"InvoiceDate": "02/11/2026"}, "InvoiceDate"),
        ({"DueDate": "2026-10-01"}, "DueDate 2026-10-01 is before InvoiceDate 2026-11-02"),
        ({"Number": ""}, "Number is required"),
        ({"Number": "x" * 51}, "Number is longer than 50 characters"),
        ({"GrossAmount": "12.345"}, "GrossAmount"),
        ({"Distributions": []}, "Distributions"),
    ],
)
def test_invalid_fields_are_422(client: httpx.Client, fields: dict[str, Any], expected: str) -> None:
    assert expected in post_rejected(client, invoice(**fields))


def test_malformed_json_is_400(client: httpx.Client) -> None:
    response = client.post("/v1/invoices", content=b"[", headers={"content-type": "application/json"})
    assert response.status_code == 400


def test_get_by_id_and_404(client: httpx.Client) -> None:
    created = create_invoice(client)
    assert client.get(f"/v1/invoices/{created['Id']}").json() == created
    missing = client.get("/v1/invoices/I-1")
    assert missing.status_code == 404
    assert "invoice I-1 does not exist" in error_detail(missing)


def test_list_changed_since(client: httpx.Client, avid: RunningAvid) -> None:
    avid.clock.set(dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
    old = create_invoice(client, number="1")
    avid.clock.set(dt.datetime(2026, 11, 4, tzinfo=dt.UTC))
    new = create_invoice(client, number="2")
    changed = client.get("/v1/invoices", params={"lastChangedFrom": "2026-11-03"}).json()["Items"]
    assert [i["Id"] for i in changed] == [new["Id"]]
    avid.clock.set(dt.datetime(2026, 11, 5, tzinfo=dt.UTC))
    avid.controls.approve(old["Id"])
    changed = client.get("/v1/invoices", params={"lastChangedFrom": "2026-11-03"}).json()["Items"]
    assert [(i["Id"], i["Status"]) for i in changed] == [(new["Id"], "Received"), (old["Id"], "Approved")]
