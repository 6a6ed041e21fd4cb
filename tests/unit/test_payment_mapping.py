"""AvidXchange payment -> Sage 100 manual check, case by case."""

from __future__ import annotations

import datetime as dt
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
from ml_connector.domain.sage import ManualCheck, ManualCheckLine, OpenInvoice, PaymentMethod, RecordedManualCheck
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


def open_invoice(number: str = "10045", balance: str = "1250.00", header_seq_no: str = "000001") -> OpenInvoice:
    header = {"APDivisionNo": "01", "VendorNo": "ACME", "InvoiceNo": number, "HeaderSeqNo": header_seq_no}
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
        # Longer or not alphanumeric: 8 characters of the PaymentId's hash, so near numbers still differ.
        ("123456789", "P-123456789", "AXUAA2E423"),
        ("1234567890", "P-1234567890", "AXNKHK4NGV"),
        ("1234567891", "P-1234567891", "AXKTBTNXC7"),
        ("AB-1", "P-9", "AXZYPXIARC"),
    ],
)
def test_the_check_number_is_derived_from_the_payment_and_fits_sage(
    number: str, payment_id: str, check_no: str
) -> None:
    assert derive_check_no(payment(Number=number, PaymentId=payment_id)) == check_no
    assert derive_check_no(payment(Number=number, PaymentId=payment_id)) == check_no, "the same on every attempt"


def line(invoice_no: str, paid: str, discount: str = "0.00", header_seq_no: str = "000001") -> ManualCheckLine:
    return ManualCheckLine(
        invoice_no=invoice_no, header_seq_no=header_seq_no, amount_paid=Decimal(paid), discount_amt=Decimal(discount)
    )


OPEN_INVOICES = {
    "10045": open_invoice("10045", "1250.00", "000001"),
    "10046": open_invoice("10046", "600.00", "000002"),
}
# What the default payment() becomes: a check paying invoice 10045 in full.
CHECK = ManualCheck(
    bank_code="A",
    check_no="AX7781234",
    check_date=dt.date(2026, 11, 20),
    ap_division_no="01",
    vendor_no="ACME",
    payment_method=PaymentMethod.CHECK,
    reference="",
    comment="AvidPay 7781234 chk 104522",
    lines=[line("10045", "1250.00")],
)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, CHECK, id="check"),
        pytest.param(
            {
                "Amount": "1830.00",
                "Remittances": [remittance("10045", "1250.00"), remittance("10046", "580.00", "20.00")],
            },
            CHECK.model_copy(update={"lines": [line("10045", "1250.00"), line("10046", "580.00", "20.00", "000002")]}),
            id="check-paying-two-invoices-one-with-a-discount",
        ),
        pytest.param(
            {"CheckNumber": None}, CHECK.model_copy(update={"comment": "AvidPay 7781234"}), id="check-unnumbered"
        ),
        pytest.param(
            {"method": "ACH", "Amount": "200.00", "Remittances": [remittance("10045", "200.00")]},
            CHECK.model_copy(
                update={
                    "payment_method": PaymentMethod.ACH,
                    "reference": "021000021234567",
                    "comment": "AvidPay 7781234",
                    "lines": [line("10045", "200.00")],
                }
            ),
            id="ach-partial-keeps-the-trace-number",
        ),
        pytest.param(
            {"method": "VirtualCard"},
            CHECK.model_copy(
                update={"payment_method": PaymentMethod.VIRTUAL_CARD, "reference": "4242", "comment": "AvidPay 7781234"}
            ),
            id="virtual-card-keeps-only-the-last-four",
        ),
        pytest.param(
            {"Number": "12345678901234", "PaymentId": "P-12345678901234"},
            CHECK.model_copy(update={"check_no": "AXJOLF3KGE", "comment": "AvidPay 12345678901234 chk 104"}),
            id="long-number-hashed-and-comment-cut-to-30",
        ),
        pytest.param(
            {"PayeeExternalVendorCode": "02-SUN001U", "PaymentDate": "2026-12-31"},
            CHECK.model_copy(
                update={
                    "bank_code": "B",
                    "ap_division_no": "02",
                    "vendor_no": "SUN001U",
                    "check_date": dt.date(2026, 12, 31),
                }
            ),
            id="division-vendor-bank-and-date",
        ),
    ],
)
def test_a_payment_becomes_this_manual_check(fields: dict[str, Any], expected: ManualCheck) -> None:
    paid = payment(**fields)
    check = to_manual_check(paid, bank_code=expected.bank_code, open_invoices=OPEN_INVOICES)
    assert check == expected
    assert check.check_amount == paid.amount


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
