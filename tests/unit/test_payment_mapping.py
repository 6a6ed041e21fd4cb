"""AvidXchange payment -> Sage 100 manual check, case by case."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ml_connector.domain.avid import AvidPayment
from ml_connector.domain.payment_mapping import (
    derive_check_no,
    is_due_for_posting,
    records_payment,
    split_vendor_code,
    to_manual_check,
)
from ml_connector.domain.sage import OpenInvoice, RecordedManualCheck
from ml_connector.errors import RecordRejected

METHODS = {"Check": 1, "ACH": 2, "VirtualCard": 3}
CARD = {"Last4": "4242", "ExpirationMonth": 12, "ExpirationYear": 2027}
STATUSES = {"Submitted": 1, "Processing": 2, "Sent": 3, "Cleared": 4, "Void": 5, "Error": 6}


def remittance(invoice_no: str, net: str, discount: str = "0.00") -> dict[str, str]:
    gross = str(Decimal(net) + Decimal(discount))
    return {"InvoiceId": "I-1", "InvoiceNumber": invoice_no, "Gross": gross, "Discount": discount, "Net": net}


def payment(method: str = "Check", status: str = "Sent", **fields: Any) -> AvidPayment:
    record: dict[str, Any] = {
        "PaymentId": "P-7781234",
        "Number": "7781234",
        "Amount": "1250.00",
        "PaymentDate": "2026-11-20",
        "LastModifiedDate": "2026-11-20T14:02:11Z",
        "Status": {"Id": STATUSES[status], "Description": status},
        "PaymentMethod": {"Id": METHODS[method], "Description": method},
        "CheckNumber": "104522" if method == "Check" else None,
        "AchTraceNumber": "021000021234567" if method == "ACH" else None,
        "VirtualCard": CARD if method == "VirtualCard" else None,
        "PayeeExternalVendorCode": "01-ACME",
        "Remittances": [remittance("10045", "1250.00")],
    }
    record.update(fields)
    return AvidPayment.model_validate(record)


def open_invoice(number: str = "10045", balance: str = "1250.00") -> OpenInvoice:
    header = {"APDivisionNo": "01", "VendorNo": "ACME", "InvoiceNo": number, "HeaderSeqNo": "000001"}
    stamps = {"InvoiceDate": "20261102", "DateUpdated": "20261102", "TimeUpdated": "10.0"}
    return OpenInvoice.model_validate(
        {**header, **stamps, "InvoiceAmt": balance, "Balance": balance, "HoldPayment": "N"}
    )


@pytest.mark.parametrize(
    ("status", "settle_on", "due"),
    [
        ("Submitted", "Sent", False),
        ("Processing", "Sent", False),
        ("Sent", "Sent", True),
        ("Cleared", "Sent", True),
        ("Sent", "Cleared", False),
        ("Cleared", "Cleared", True),
        ("Void", "Sent", False),
        ("Error", "Sent", False),
    ],
)
def test_a_payment_posts_once_settled_as_the_customer_chose(status: str, settle_on: str, due: bool) -> None:
    assert is_due_for_posting(payment(status=status), settle_on) is due  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("number", "payment_id", "check_no"),
    [
        ("7781234", "P-7781234", "AX7781234"),
        ("12345678", "P-1", "AX12345678"),
        ("123456789", "P-123456789", derive_check_no(payment(Number="123456789", PaymentId="P-123456789"))),
        ("AB-1", "P-9", derive_check_no(payment(Number="AB-1", PaymentId="P-9"))),
    ],
)
def test_the_check_number_is_derived_from_the_payment_and_fits_sage(
    number: str, payment_id: str, check_no: str
) -> None:
    derived = derive_check_no(payment(Number=number, PaymentId=payment_id))
    assert derived == check_no
    assert len(derived) <= 10 and derived.startswith("AX")
    assert derive_check_no(payment(Number=number, PaymentId=payment_id)) == derived, "the same on every attempt"


def test_long_numbers_of_different_payments_get_different_check_numbers() -> None:
    first = derive_check_no(payment(Number="1234567890", PaymentId="P-1234567890"))
    second = derive_check_no(payment(Number="1234567891", PaymentId="P-1234567891"))
    assert first != second


@pytest.mark.parametrize(
    ("method", "sage_method", "reference"),
    [("Check", "check", ""), ("ACH", "ach", "021000021234567"), ("VirtualCard", "virtual_card", "4242")],
)
def test_method_and_reference_carry_over(method: str, sage_method: str, reference: str) -> None:
    check = to_manual_check(payment(method), bank_code="A", open_invoices={"10045": open_invoice()})
    assert (check.payment_method.value, check.reference) == (sage_method, reference)
    assert (check.bank_code, check.check_no, check.ap_division_no, check.vendor_no) == ("A", "AX7781234", "01", "ACME")
    assert check.lines[0].header_seq_no == "000001"
    if method == "Check":
        assert check.comment == "AvidPay 7781234 chk 104522"


def test_a_discount_and_a_partial_payment_apply_as_remitted() -> None:
    partial = payment(Remittances=[remittance("10045", "580.00", "20.00")])
    check = to_manual_check(partial, bank_code="A", open_invoices={"10045": open_invoice()})
    assert (check.lines[0].amount_paid, check.lines[0].discount_amt) == (Decimal("580.00"), Decimal("20.00"))


@pytest.mark.parametrize(
    ("open_invoices", "fields", "message"),
    [
        ({}, {}, "invoice 10045 of vendor 01-ACME is not open in Sage 100"),
        ({"10045": open_invoice(balance="100.00")}, {}, "whose open balance in Sage 100 is 100.00"),
        ({"10045": open_invoice()}, {"Remittances": []}, "has no remittances"),
        ({"10045": open_invoice()}, {"PayeeExternalVendorCode": "ACME"}, "is not a vendor the connector created"),
    ],
)
def test_a_payment_that_cannot_be_applied_says_why(
    open_invoices: dict[str, OpenInvoice], fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(RecordRejected, match=message):
        to_manual_check(payment(**fields), bank_code="A", open_invoices=open_invoices)


def test_split_vendor_code() -> None:
    assert split_vendor_code("02-SUN001U") == ("02", "SUN001U")


def test_a_recorded_check_is_recognised_as_the_payment_only_when_it_applied_the_same_amounts() -> None:
    check = to_manual_check(payment(), bank_code="A", open_invoices={"10045": open_invoice()})
    recorded = RecordedManualCheck.model_validate({**check.model_dump(by_alias=True), "Posted": True})
    assert records_payment(recorded, payment())
    other = payment(
        Remittances=[{"InvoiceId": "I-2", "InvoiceNumber": "10046", "Gross": "1.00", "Discount": "0.00", "Net": "1.00"}]
    )
    assert not records_payment(recorded, other)
    assert not records_payment(recorded, payment(PayeeExternalVendorCode="01-OTHER"))
