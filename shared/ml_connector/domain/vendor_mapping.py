"""A Sage 100 vendor (AP_Vendor) as an AvidXchange vendor."""

from __future__ import annotations

from ml_connector.domain.avid import Address, AvidVendor
from ml_connector.domain.sage import SageVendor, VendorStatus


def vendor_is_payable(vendor: SageVendor) -> bool:
    """Only active vendors that are not on payment hold stay active in AvidXchange; the rest are deactivated."""
    return vendor.vendor_status is VendorStatus.ACTIVE and not vendor.hold_payment


def to_avid_vendor(vendor: SageVendor) -> AvidVendor:
    return AvidVendor(
        external_vendor_code=vendor.key,
        name=vendor.vendor_name.strip(),
        # Sage 100 has no separate check name on AP_Vendor: checks are printed to the vendor name.
        name_on_check=vendor.vendor_name.strip(),
        fed_tax_id=vendor.taxpayer_id_social_security_no.strip(),
        address=Address(
            line1=vendor.address_line1.strip(),
            line2=vendor.address_line2.strip(),
            line3=vendor.address_line3.strip(),
            city=vendor.city.strip(),
            state=vendor.state.strip(),
            postal_code=vendor.zip_code.strip(),
            country=vendor.country_code.strip(),
        ),
        telephone=vendor.telephone_no.strip(),
        email=vendor.email_address.strip(),
        payment_terms_code=vendor.terms_code.strip(),
        active=vendor_is_payable(vendor),
    )
