from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest

from avid_sim.errors import AvidApiError
from avid_sim.models import InvoiceStatus, PaymentMethod, PaymentStatus
from avid_sim.payments import InvoicePayment
from avid_sim.testing import RunningAvid

from .conftest import create_invoice, error_detail, seed_reference_data

NOW = dt.datetime(2026, 11, 20, 14, 2, 11, tzinfo=dt.UTC)
WINDOW = {"lastModifiedFrom": "2026-11-01T00:00:00Z", "lastModifiedTo": "2026-11-30T00:00:00Z"}


@pytest.fixture(autouse=True)
def _setup(client: httpx.Client, avid: RunningAvid) -> None:
    avid.clock.set(NOW)
    seed_reference_data(client, "01-ACME", "01-BOLT")


def approved(client: httpx.Client, avid: RunningAvid, number: str, vendor_code: str = "01-ACME") -> str:
    invoice_id = str(create_invoice(client, number=number, vendor_code=vendor_code)["Id"])
    avid.controls.start_approval(invoice_id)
    avid.controls.approve(invoice_id)
    return invoice_id


def payments(client: httpx.Client, **window: str) -> dict[str, Any]:
    response = client.get("/v1/payments", params=window or WINDOW)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_check_payment_reads_back_exactly_as_the_contract_shows(client: httpx.Client, avid: RunningAvid) -> None:
    invoice_id = approved(client, avid, "10045")
    payment = avid.controls.pay([invoice_id], method=PaymentMethod.CHECK)
    [item] = payments(client)["Items"]
    assert item == {
        "PaymentId": payment.payment_id,
        "Number": payment.payment_id.removeprefix("P-"),
        "Amount": "1250.00",
        "PaymentDate": "2026-11-20",
        "ClearedDate": None,
        "LastModifiedDate": "2026-11-20T14:02:11Z",
        "Status": {"Id": 3, "Description": "Sent"},
        "PaymentMethod": {"Id": 1, "Description": "Check"},
        "CheckNumber": payment.check_number,
        "AchTraceNumber": None,
        "VirtualCard": None,
        "PayeeExternalVendorCode": "01-ACME",
        "Remittances": [
            {
                "InvoiceId": invoice_id,
                "InvoiceNumber": "10045",
                "Gross": "1250.00",
                "Discount": "0.00",
                "Net": "1250.00",
            }
        ],
    }
    assert client.get(f"/v1/payments/{payment.payment_id}").json() == item
    assert client.get(f"/v1/invoices/{invoice_id}").json()["Status"] == "Paid"


def test_ach_and_virtual_card_details(client: httpx.Client, avid: RunningAvid) -> None:
    ach = avid.controls.pay([approved(client, avid, "1")], method="ACH")
    card = avid.controls.pay([approved(client, avid, "2")], method="VirtualCard")
    ach_item = client.get(f"/v1/payments/{ach.payment_id}").json()
    card_item = client.get(f"/v1/payments/{card.payment_id}").json()
    assert ach_item["PaymentMethod"] == {"Id": 2, "Description": "ACH"}
    assert len(ach_item["AchTraceNumber"]) == 15
    assert ach_item["AchTraceNumber"].isdigit()
    assert ach_item["CheckNumber"] is None
    assert card_item["PaymentMethod"] == {"Id": 3, "Description": "VirtualCard"}
    card_details = card_item["VirtualCard"]
    assert len(card_details["Last4"]) == 4
    assert 1 <= card_details["ExpirationMonth"] <= 12
    assert card_details["ExpirationYear"] == 2028


def test_one_payment_covers_several_invoices_and_part_of_one(client: httpx.Client, avid: RunningAvid) -> None:
    whole, part = approved(client, avid, "1"), approved(client, avid, "2")
    payment = avid.controls.pay(
        [whole, InvoicePayment(part, amount=Decimal("200.00"), discount=Decimal("50.00"))], method="Check"
    )
    assert payment.amount == Decimal("1450.00")
    assert [(r.gross, r.discount, r.net) for r in payment.remittances] == [
        (Decimal("1250.00"), Decimal("0.00"), Decimal("1250.00")),
        (Decimal("250.00"), Decimal("50.00"), Decimal("200.00")),
    ]
    partly = client.get(f"/v1/invoices/{part}").json()
    assert (partly["Status"], partly["AmountPaid"], partly["Balance"]) == ("Approved", "250.00", "1000.00")
    rest = avid.controls.pay([part])
    assert rest.amount == Decimal("1000.00")
    assert avid.state.invoices[part].status is InvoiceStatus.PAID


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("two vendors", "one payment pays one vendor"),
        ("not approved", "only Approved invoices can be paid"),
        ("too much", "exceeds balance 1250.00"),
        ("twice", "names the same invoice twice"),
        ("unknown", "invoice I-1 does not exist"),
    ],
)
def test_payments_that_cannot_be_made_are_refused(
    client: httpx.Client, avid: RunningAvid, setup: str, expected: str
) -> None:
    acme = approved(client, avid, "1")
    cases: dict[str, list[str | InvoicePayment]] = {
        "two vendors": [acme, approved(client, avid, "2", "01-BOLT")],
        "not approved": [str(create_invoice(client, number="3")["Id"])],
        "too much": [InvoicePayment(acme, amount=Decimal("1250.01"))],
        "twice": [acme, acme],
        "unknown": ["I-1"],
    }
    with pytest.raises(AvidApiError, match=expected):
        avid.controls.pay(cases[setup])
    assert avid.state.payments == {}
    assert avid.state.invoices[acme].amount_paid == 0


def test_the_window_is_required_and_at_most_30_days(client: httpx.Client) -> None:
    for params, expected in [
        ({"lastModifiedFrom": "2026-11-01T00:00:00Z"}, "lastModifiedTo is required"),
        ({"lastModifiedTo": "2026-11-01T00:00:00Z"}, "lastModifiedFrom is required"),
        ({"lastModifiedFrom": "2026-11-01T00:00:00Z", "lastModifiedTo": "2026-12-01T00:00:01Z"}, "over 30 days"),
        ({"lastModifiedFrom": "2026-11-02T00:00:00Z", "lastModifiedTo": "2026-11-01T00:00:00Z"}, "is before"),
        ({"lastModifiedFrom": "2026-11-01", "lastModifiedTo": "soon"}, "lastModifiedTo 'soon'"),
    ]:
        response = client.get("/v1/payments", params=params)
        assert response.status_code == 400, params
        assert expected in error_detail(response)
    exactly_30 = {"lastModifiedFrom": "2026-11-01T00:00:00Z", "lastModifiedTo": "2026-12-01T00:00:00Z"}
    assert client.get("/v1/payments", params=exactly_30).status_code == 200


def test_only_payments_modified_inside_the_window_are_listed(client: httpx.Client, avid: RunningAvid) -> None:
    early = avid.controls.pay([approved(client, avid, "1")])
    avid.clock.set(NOW + dt.timedelta(days=20))
    late = avid.controls.pay([approved(client, avid, "2")])
    first = payments(client, lastModifiedFrom="2026-11-20T14:02:11Z", lastModifiedTo="2026-11-21T00:00:00+00:00")
    assert [p["PaymentId"] for p in first["Items"]] == [early.payment_id]
    avid.clock.set(NOW + dt.timedelta(days=21))
    avid.controls.clear_payment(early.payment_id)
    second = payments(client, lastModifiedFrom="2026-12-05T00:00:00Z", lastModifiedTo="2026-12-20T00:00:00Z")
    assert [p["PaymentId"] for p in second["Items"]] == [late.payment_id, early.payment_id]
    assert second["Items"][1]["Status"] == {"Id": 4, "Description": "Cleared"}
    assert second["Items"][1]["ClearedDate"] == "2026-12-11"


def test_status_moves_forward_and_void_releases_the_invoices(client: httpx.Client, avid: RunningAvid) -> None:
    invoice_id = approved(client, avid, "1")
    payment = avid.controls.pay([invoice_id], status=PaymentStatus.SUBMITTED)
    assert (
        avid.controls.set_payment_status(payment.payment_id, PaymentStatus.PROCESSING).status
        is PaymentStatus.PROCESSING
    )
    assert avid.controls.set_payment_status(payment.payment_id, PaymentStatus.SENT).status is PaymentStatus.SENT
    with pytest.raises(AvidApiError, match="cannot become Processing"):
        avid.controls.set_payment_status(payment.payment_id, PaymentStatus.PROCESSING)
    voided = avid.controls.void_payment(payment.payment_id)
    assert voided.status is PaymentStatus.VOID
    invoice = client.get(f"/v1/invoices/{invoice_id}").json()
    assert (invoice["Status"], invoice["AmountPaid"]) == ("Approved", "0.00")
    with pytest.raises(AvidApiError, match="cannot become Void"):
        avid.controls.void_payment(payment.payment_id)
    assert avid.controls.pay([invoice_id]).amount == Decimal("1250.00")


def test_a_cleared_payment_cannot_be_voided(client: httpx.Client, avid: RunningAvid) -> None:
    payment = avid.controls.pay([approved(client, avid, "1")], status=PaymentStatus.CLEARED)
    assert payment.cleared_date == NOW.date()
    with pytest.raises(AvidApiError, match="Cleared; cannot become Void"):
        avid.controls.void_payment(payment.payment_id)


def test_an_errored_payment_releases_its_invoices(client: httpx.Client, avid: RunningAvid) -> None:
    invoice_id = approved(client, avid, "1")
    payment = avid.controls.pay([invoice_id], status=PaymentStatus.PROCESSING)
    avid.controls.set_payment_status(payment.payment_id, PaymentStatus.ERROR)
    assert avid.state.invoices[invoice_id].status is InvoiceStatus.APPROVED
    assert client.get(f"/v1/payments/{payment.payment_id}").json()["Status"] == {"Id": 6, "Description": "Error"}


def test_unknown_payment_is_404(client: httpx.Client) -> None:
    response = client.get("/v1/payments/P-1")
    assert response.status_code == 404
    assert "payment P-1 does not exist" in error_detail(response)


def test_approval_moves(client: httpx.Client, avid: RunningAvid) -> None:
    invoice_id = str(create_invoice(client, number="1")["Id"])
    assert avid.controls.start_approval(invoice_id).status is InvoiceStatus.IN_APPROVAL
    assert avid.controls.reject(invoice_id).status is InvoiceStatus.REJECTED
    with pytest.raises(AvidApiError, match="cannot move to Approved"):
        avid.controls.approve(invoice_id)
    assert avid.controls.void_invoice(invoice_id).status is InvoiceStatus.VOID
    paid = approved(client, avid, "2")
    avid.controls.pay([InvoicePayment(paid, amount=Decimal("1.00"))])
    with pytest.raises(AvidApiError, match="cannot move to Void"):
        avid.controls.void_invoice(paid)
