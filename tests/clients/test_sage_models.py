from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from ml_connector.domain.sage import (
    AgentHealth,
    CompanyInfo,
    GLAccount,
    ManualCheck,
    OpenInvoice,
    PaymentMethod,
    RecordedManualCheck,
    SageVendor,
    VendorStatus,
    format_agent_timestamp,
    format_decimal_hours,
    parse_decimal_hours,
)


def vendor_json(**overrides: Any) -> dict[str, Any]:
    return {
        "APDivisionNo": "01",
        "VendorNo": "ACME",
        "VendorName": "Acme Concrete Supply",
        "AddressLine1": "12 Quarry Rd",
        "City": "Flagstaff",
        "State": "AZ",
        "ZipCode": "86001",
        "TaxpayerIDSocialSecurityNo": "861234567",
        "TermsCode": "01",
        "VendorStatus": "A",
        "HoldPayment": "N",
        "DateCreated": "20240105",
        "TimeCreated": "8.5",
        "DateUpdated": "20261120",
        "TimeUpdated": "13.52345",
        **overrides,
    }


def invoice_json(**overrides: Any) -> dict[str, Any]:
    return {
        "APDivisionNo": "01",
        "VendorNo": "ACME",
        "InvoiceNo": "10045",
        "HeaderSeqNo": "000000",
        "InvoiceDate": "20261102",
        "InvoiceDueDate": "20261202",
        "TermsCode": "01",
        "InvoiceAmt": "1250.00",
        "Balance": "1250.00",
        "HoldPayment": "N",
        "Comment": "Concrete",
        "PurchaseOrderNo": "",
        "Lines": [
            {"AccountKey": "000000001", "Account": "6100-02-300", "DistributionAmt": "1000.00", "Comment": ""},
            {"AccountKey": "000000002", "Account": "6100-02-310", "DistributionAmt": "250.00", "Comment": ""},
        ],
        "HasImage": True,
        "DateUpdated": "20261102",
        "TimeUpdated": "9.25",
        **overrides,
    }


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ("13.52345", dt.time(13, 31, 24, 420000)),
        ("0", dt.time(0, 0)),
        ("0.00000", dt.time(0, 0)),
        ("9.25", dt.time(9, 15)),
        ("23.99999", dt.time(23, 59, 59, 964000)),
        ("24", dt.time(23, 59, 59, 999999)),
    ],
)
def test_decimal_hours_parse_to_time(hours: str, expected: dt.time) -> None:
    assert parse_decimal_hours(hours) == expected


@pytest.mark.parametrize("bad", ["", "abc", "-1", "24.5", "nan"])
def test_decimal_hours_refuse_nonsense(bad: str) -> None:
    with pytest.raises(ValueError, match="time"):
        parse_decimal_hours(bad)


@pytest.mark.parametrize("hours", ["13.52345", "0.00000", "9.25000", "23.99999"])
def test_decimal_hours_round_trip(hours: str) -> None:
    parsed = parse_decimal_hours(hours)
    assert isinstance(parsed, dt.time)
    assert format_decimal_hours(parsed) == hours


def test_vendor_parses_sage_formats_and_combines_updated_at() -> None:
    vendor = SageVendor.model_validate(vendor_json())
    assert vendor.date_updated == dt.date(2026, 11, 20)
    assert vendor.time_updated == dt.time(13, 31, 24, 420000)
    assert vendor.updated_at == dt.datetime(2026, 11, 20, 13, 31, 24, 420000)
    assert vendor.vendor_status is VendorStatus.ACTIVE
    assert vendor.hold_payment is False
    assert vendor.time_created == dt.time(8, 30)
    assert vendor.key == "01-ACME"


def test_vendor_tax_id_is_kept_out_of_repr_and_errors() -> None:
    vendor = SageVendor.model_validate(vendor_json())
    assert "861234567" not in repr(vendor)
    with pytest.raises(ValidationError) as caught:
        SageVendor.model_validate(vendor_json(TaxpayerIDSocialSecurityNo="8612345670"))
    assert "8612345670" not in str(caught.value)
    assert "TaxpayerIDSocialSecurityNo" in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("VendorNo", "TOOLONG1"),
        ("VendorName", "x" * 31),
        ("City", "x" * 21),
        ("State", "AZX"),
        ("ZipCode", "x" * 11),
        ("APDivisionNo", "1"),
        ("APDivisionNo", "AB"),
        ("VendorStatus", "X"),
        ("HoldPayment", "maybe"),
        ("DateUpdated", "2026-11-20"),
        ("DateUpdated", "20261340"),
        ("TimeUpdated", "25"),
    ],
)
def test_vendor_refuses_values_sage_would_not_hold(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        SageVendor.model_validate(vendor_json(**{field: value}))


def test_blank_optional_dates_are_none() -> None:
    vendor = SageVendor.model_validate(vendor_json(DateCreated="", TimeCreated=""))
    assert vendor.date_created is None
    assert vendor.time_created is None


def test_open_invoice_amounts_are_decimals_and_lines_must_add_up() -> None:
    invoice = OpenInvoice.model_validate(invoice_json())
    assert invoice.invoice_amt == Decimal("1250.00")
    assert isinstance(invoice.lines[0].distribution_amt, Decimal)
    assert invoice.invoice_date == dt.date(2026, 11, 2)
    assert invoice.key == "01-ACME/10045"
    with pytest.raises(ValidationError, match=r"sum to 1250\.00, InvoiceAmt is 1300\.00"):
        OpenInvoice.model_validate(invoice_json(InvoiceAmt="1300.00"))


@pytest.mark.parametrize("amount", [1250.0, "12.345", "abc", "Infinity"])
def test_amounts_refuse_floats_and_sub_cent_values(amount: object) -> None:
    with pytest.raises(ValidationError, match="InvoiceAmt"):
        OpenInvoice.model_validate(invoice_json(InvoiceAmt=amount, Lines=[]))


def test_credit_memo_is_a_negative_amount() -> None:
    memo = OpenInvoice.model_validate(invoice_json(InvoiceAmt="-50.00", Balance="-50.00", Lines=[]))
    assert memo.is_credit_memo


def test_invoice_number_longer_than_ten_is_refused() -> None:
    with pytest.raises(ValidationError, match="InvoiceNo"):
        OpenInvoice.model_validate(invoice_json(InvoiceNo="12345678901"))


def test_manual_check_serialises_to_the_contract_body() -> None:
    check = ManualCheck(
        bank_code="A",
        check_no="0000104522",
        check_date=dt.date(2026, 11, 20),
        ap_division_no="01",
        vendor_no="ACME",
        payment_method=PaymentMethod.CHECK,
        comment="AvidPay 7781234",
        lines=[{"invoice_no": "10045", "amount_paid": Decimal("1250.00")}],
    )
    assert check.model_dump(mode="json") == {
        "BankCode": "A",
        "CheckNo": "0000104522",
        "CheckDate": "20261120",
        "APDivisionNo": "01",
        "VendorNo": "ACME",
        "PaymentMethod": "check",
        "Reference": "",
        "Comment": "AvidPay 7781234",
        "Lines": [{"InvoiceNo": "10045", "HeaderSeqNo": "000000", "AmountPaid": "1250.00", "DiscountAmt": "0.00"}],
    }
    assert check.check_amount == Decimal("1250.00")
    assert check.key == "A/0000104522"


def test_manual_check_refuses_a_check_number_over_ten_characters() -> None:
    with pytest.raises(ValidationError, match=r"check_no|CheckNo"):
        ManualCheck(
            bank_code="A",
            check_no="00001045221",
            check_date=dt.date(2026, 11, 20),
            ap_division_no="01",
            vendor_no="ACME",
            payment_method=PaymentMethod.ACH,
            lines=[{"invoice_no": "10045", "amount_paid": Decimal("1.00")}],
        )


def test_recorded_manual_check_reads_the_409_existing_shape() -> None:
    existing = RecordedManualCheck.model_validate(
        {
            "BankCode": "A",
            "CheckNo": "0000104522",
            "CheckDate": "20261120",
            "APDivisionNo": "01",
            "VendorNo": "ACME",
            "PaymentMethod": "virtual_card",
            "Reference": "4242",
            "Comment": "",
            "Lines": [{"InvoiceNo": "10045", "HeaderSeqNo": "000000", "AmountPaid": "1250.00", "DiscountAmt": "0.00"}],
            "Posted": True,
        }
    )
    assert existing.posted is True
    assert existing.payment_method is PaymentMethod.VIRTUAL_CARD


def test_gl_account_and_company_and_health() -> None:
    account = GLAccount.model_validate(
        {
            "AccountKey": "000000001",
            "Account": "6100-02-300",
            "AccountDesc": "Materials",
            "MainAccountCode": "6100",
            "AccountType": "05",
            "Status": "A",
            "Segments": [{"SegmentNo": 1, "SubAccountCode": "6100"}, {"SegmentNo": 3, "SubAccountCode": "300"}],
            "DateUpdated": "20261101",
            "TimeUpdated": "1.5",
        }
    )
    assert account.segments[1].sub_account_code == "300"
    company = CompanyInfo.model_validate(
        {
            "CompanyCode": "RCC",
            "CompanyName": "Redrock",
            "APDivisionsEnabled": True,
            "APModuleDate": "20261101",
            "BankCodes": ["A", "B"],
        }
    )
    assert company.ap_module_date == dt.date(2026, 11, 1)
    health = AgentHealth.model_validate(
        {"agent_version": "1", "sage_version": "2024", "companies": ["RCC"], "server_time": "20261120T14:02:11"}
    )
    assert health.server_time == dt.datetime(2026, 11, 20, 14, 2, 11)


def test_updated_since_must_be_agent_local_naive_time() -> None:
    assert format_agent_timestamp(dt.datetime(2026, 11, 20, 14, 2, 11)) == "20261120T14:02:11"
    with pytest.raises(ValueError, match="time zone"):
        format_agent_timestamp(dt.datetime(2026, 11, 20, tzinfo=dt.UTC))


def test_virtual_card_reference_is_only_the_last_four() -> None:
    fields: dict[str, Any] = {
        "BankCode": "A",
        "CheckNo": "V000000001",
        "CheckDate": "20261120",
        "APDivisionNo": "01",
        "VendorNo": "ACME",
        "PaymentMethod": "virtual_card",
        "Lines": [{"InvoiceNo": "10045", "AmountPaid": "1.00"}],
    }
    assert ManualCheck.model_validate({**fields, "Reference": "4242"}).reference == "4242"
    with pytest.raises(ValidationError, match="last four"):
        ManualCheck.model_validate({**fields, "Reference": "4242424242424242"})
