"""Sage 100 vendor -> AvidXchange vendor, case by case."""

from __future__ import annotations

from typing import Any

import pytest

from ml_connector.domain.avid import AvidVendor
from ml_connector.domain.hashing import content_hash
from ml_connector.domain.sage import SageVendor
from ml_connector.domain.vendor_mapping import to_avid_vendor


def sage_vendor(**fields: Any) -> SageVendor:
    record = {
        "APDivisionNo": "01",
        "VendorNo": "ACME",
        "VendorName": "Acme Concrete Supply",
        "AddressLine1": "100 Main St",
        "City": "Reno",
        "State": "NV",
        "ZipCode": "89501",
        "CountryCode": "USA",
        "TelephoneNo": "(775) 555-0100",
        "EmailAddress": "ap@acme.example",
        "TaxpayerIDSocialSecurityNo": "123456789",
        "TermsCode": "01",
        "VendorStatus": "A",
        "HoldPayment": "N",
        "DateUpdated": "20261120",
        "TimeUpdated": "13.52345",
    }
    record.update(fields)
    return SageVendor.model_validate(record)


@pytest.mark.parametrize(
    ("fields", "active"),
    [
        ({}, True),
        ({"VendorStatus": "I"}, False),
        ({"VendorStatus": "T"}, False),
        ({"HoldPayment": "Y"}, False),
        ({"VendorStatus": "I", "HoldPayment": "Y"}, False),
    ],
)
def test_inactive_temporary_and_on_hold_vendors_are_deactivated(fields: dict[str, str], active: bool) -> None:
    assert to_avid_vendor(sage_vendor(**fields)).active is active


def test_every_field_maps_and_the_code_carries_the_division() -> None:
    vendor = to_avid_vendor(sage_vendor(APDivisionNo="02", AddressLine2="Suite 4"))
    assert vendor == AvidVendor(
        external_vendor_code="02-ACME",
        name="Acme Concrete Supply",
        name_on_check="Acme Concrete Supply",
        fed_tax_id="123456789",
        address={
            "line1": "100 Main St",
            "line2": "Suite 4",
            "city": "Reno",
            "state": "NV",
            "postal_code": "89501",
            "country": "USA",
        },
        telephone="(775) 555-0100",
        email="ap@acme.example",
        payment_terms_code="01",
        active=True,
    )


@pytest.mark.parametrize(
    "name",
    ["X" * 30, "Café Müller & Söhne Ñandú", "  Padded Name  ", "株式会社サンプル"],
)
def test_names_at_their_limit_and_non_ascii_names_arrive_intact(name: str) -> None:
    vendor = to_avid_vendor(sage_vendor(VendorName=name))
    assert vendor.name == name.strip()
    assert vendor.name_on_check == name.strip()


def test_empty_optional_fields_stay_empty() -> None:
    vendor = to_avid_vendor(
        sage_vendor(
            AddressLine1="",
            City="",
            State="",
            ZipCode="",
            TelephoneNo="",
            EmailAddress="",
            TaxpayerIDSocialSecurityNo="",
            TermsCode="",
        )
    )
    assert vendor.fed_tax_id == ""
    assert vendor.email == ""
    assert vendor.address.line1 == ""
    assert vendor.payment_terms_code == ""


def test_a_rename_or_a_status_change_changes_the_content_hash_and_a_timestamp_does_not() -> None:
    base = content_hash(to_avid_vendor(sage_vendor()))
    assert content_hash(to_avid_vendor(sage_vendor(TimeUpdated="14.00000"))) == base
    assert content_hash(to_avid_vendor(sage_vendor(VendorName="Acme Concrete"))) != base
    assert content_hash(to_avid_vendor(sage_vendor(HoldPayment="Y"))) != base


def test_the_tax_id_never_shows_in_a_repr() -> None:
    assert "123456789" not in repr(to_avid_vendor(sage_vendor()))
    assert "123456789" not in repr(sage_vendor())
