from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from ml_connector.domain.avid import (
    Address,
    AvidPayment,
    AvidVendor,
    BatchItemResult,
    CodeRef,
    Distribution,
    NewInvoice,
    PaymentMethodName,
    PaymentStatus,
)

PAYMENT = {
    "PaymentId": "P-7781234",
    "Number": "7781234",
    "Amount": "1250.00",
    "PaymentDate": "2026-11-20",
    "ClearedDate": None,
    "LastModifiedDate": "2026-11-20T14:02:11Z",
    "Status": {"Id": 3, "Description": "Sent"},
    "PaymentMethod": {"Id": 2, "Description": "ACH"},
    "CheckNumber": None,
    "AchTraceNumber": "021000021234567",
    "VirtualCard": None,
    "PayeeExternalVendorCode": "01-ACME",
    "Remittances": [
        {"InvoiceId": "I-5512", "InvoiceNumber": "10045", "Gross": "1250.00", "Discount": "0.00", "Net": "1250.00"}
    ],
}


def test_new_invoice_serialises_to_the_contract_json() -> None:
    invoice = NewInvoice(
        number="10045",
        vendor_external_code="01-ACME",
        invoice_date=dt.date(2026, 11, 2),
        due_date=dt.date(2026, 12, 2),
        gross_amount=Decimal("1250.00"),
        distributions=[
            Distribution(
                amount=Decimal("1250.00"),
                description="Concrete",
                enterprise_codes=[
                    CodeRef(group_name="Accounting Codes", code_value="6100-02-300"),
                    CodeRef(group_name="Cost Center", code_value="300"),
                ],
            )
        ],
    )
    assert invoice.model_dump(mode="json") == {
        "Number": "10045",
        "VendorExternalCode": "01-ACME",
        "InvoiceDate": "2026-11-02",
        "DueDate": "2026-12-02",
        "GrossAmount": "1250.00",
        "PONumber": "",
        "Memo": "",
        "Distributions": [
            {
                "Amount": "1250.00",
                "Description": "Concrete",
                "EnterpriseCodes": [
                    {"GroupName": "Accounting Codes", "CodeValue": "6100-02-300"},
                    {"GroupName": "Cost Center", "CodeValue": "300"},
                ],
            }
        ],
    }


def test_vendor_serialises_with_nested_address() -> None:
    vendor = AvidVendor(
        external_vendor_code="01-ACME", name="Acme", fed_tax_id="861234567", address=Address(line1="12 Quarry Rd")
    )
    body = vendor.model_dump(mode="json")
    assert body["ExternalVendorCode"] == "01-ACME"
    assert body["Address"]["Line1"] == "12 Quarry Rd"
    assert body["FedTaxId"] == "861234567"
    assert "861234567" not in repr(vendor)


def test_payment_parses_status_method_and_money() -> None:
    payment = AvidPayment.model_validate(PAYMENT)
    assert payment.status.description is PaymentStatus.SENT
    assert payment.payment_method.description is PaymentMethodName.ACH
    assert payment.amount == Decimal("1250.00")
    assert payment.last_modified_date == dt.datetime(2026, 11, 20, 14, 2, 11, tzinfo=dt.UTC)
    assert payment.remittances[0].net == Decimal("1250.00")
    assert payment.is_settled


def test_payment_with_a_virtual_card_keeps_only_the_last_four() -> None:
    payment = AvidPayment.model_validate(
        {
            **PAYMENT,
            "PaymentMethod": {"Id": 3, "Description": "VirtualCard"},
            "VirtualCard": {"Last4": "4242", "ExpirationMonth": 12, "ExpirationYear": 2027},
        }
    )
    assert payment.virtual_card is not None
    assert payment.virtual_card.last4 == "4242"
    with pytest.raises(ValidationError, match="Last4"):
        AvidPayment.model_validate(
            {**PAYMENT, "VirtualCard": {"Last4": "4242424242424242", "ExpirationMonth": 1, "ExpirationYear": 2027}}
        )


def test_payment_with_an_unknown_status_is_refused() -> None:
    with pytest.raises(ValidationError, match="Status"):
        AvidPayment.model_validate({**PAYMENT, "Status": {"Id": 9, "Description": "Refunded"}})


def test_batch_result_flattens_error_messages() -> None:
    result = BatchItemResult.model_validate(
        {"Successful": False, "Errors": [{"Message": "Name is required"}], "Item": {"ExternalVendorCode": "01-BAD"}}
    )
    assert result.errors == ["Name is required"]
    assert result.id is None
    ok = BatchItemResult.model_validate({"Successful": True, "Errors": [], "Item": {"Id": "V-1001"}})
    assert ok.id == "V-1001"
