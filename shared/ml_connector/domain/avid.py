"""AvidConnect records (contract: avidconnect-api.md): PascalCase JSON, ISO dates, amounts as decimal strings."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, ConfigDict, Field, field_validator

from ml_connector.domain.amounts import Amount
from ml_connector.domain.wire import PascalModel
from ml_connector.model import Model

ACCOUNTING_CODES = "Accounting Codes"


class AvidModel(PascalModel):
    """AvidConnect's JSON."""


class AvidCompany(AvidModel):
    company_id: str
    name: str


class Address(AvidModel):
    line1: str = ""
    line2: str = ""
    line3: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


class AvidVendor(AvidModel):
    """A vendor as the connector upserts it, keyed by ``ExternalVendorCode`` (``APDivisionNo-VendorNo``)."""

    external_vendor_code: str = Field(min_length=1)
    name: str
    name_on_check: str = ""
    fed_tax_id: str = Field(default="", repr=False)
    address: Address = Address()
    telephone: str = ""
    email: str = ""
    payment_terms_code: str = ""
    active: bool = True

    @property
    def key(self) -> str:
        return self.external_vendor_code


class AvidVendorRecord(AvidVendor):
    """A vendor as AvidXchange holds it."""

    id: str
    last_modified_date: AwareDatetime | None = None


class EnterpriseCode(AvidModel):
    """A GL account (group ``Accounting Codes``) or a dimension value (group = the dimension's name)."""

    group_name: str = Field(min_length=1)
    code_value: str = Field(min_length=1)
    description: str = ""
    is_active: bool = True

    @property
    def key(self) -> str:
        return f"{self.group_name}/{self.code_value}"


class EnterpriseCodeRecord(EnterpriseCode):
    id: str | None = None
    last_modified_date: AwareDatetime | None = None


class CodeRef(AvidModel):
    group_name: str
    code_value: str


class Distribution(AvidModel):
    amount: Amount
    description: str = ""
    enterprise_codes: list[CodeRef] = []


class NewInvoice(AvidModel):
    number: str = Field(min_length=1)
    vendor_external_code: str = Field(min_length=1)
    invoice_date: dt.date
    due_date: dt.date | None = None
    gross_amount: Amount
    po_number: str = Field(default="", alias="PONumber")
    memo: str = ""
    distributions: list[Distribution] = []

    @property
    def key(self) -> str:
        """``VendorExternalCode/Number``, e.g. ``01-ACME/10045``."""
        return f"{self.vendor_external_code}/{self.number}"


class InvoiceStatus(StrEnum):
    RECEIVED = "Received"
    IN_APPROVAL = "InApproval"
    APPROVED = "Approved"
    REJECTED = "Rejected"
    PAID = "Paid"
    VOID = "Void"


class AvidInvoice(NewInvoice):
    id: str
    status: InvoiceStatus
    has_image: bool = False
    image_sha256: str | None = None
    last_changed_date: AwareDatetime | None = None


class PaymentStatus(StrEnum):
    SUBMITTED = "Submitted"
    PROCESSING = "Processing"
    SENT = "Sent"
    CLEARED = "Cleared"
    VOID = "Void"
    ERROR = "Error"


class PaymentMethodName(StrEnum):
    CHECK = "Check"
    ACH = "ACH"
    VIRTUAL_CARD = "VirtualCard"


class PaymentStatusRef(AvidModel):
    id: int
    description: PaymentStatus


class PaymentMethodRef(AvidModel):
    id: int
    description: PaymentMethodName


class VirtualCard(AvidModel):
    last4: str = Field(pattern=r"^\d{4}$")
    expiration_month: int = Field(ge=1, le=12)
    expiration_year: int


class Remittance(AvidModel):
    invoice_id: str
    invoice_number: str
    gross: Amount
    discount: Amount
    net: Amount


class AvidPayment(AvidModel):
    payment_id: str
    number: str
    amount: Amount
    payment_date: dt.date
    cleared_date: dt.date | None = None
    last_modified_date: AwareDatetime
    status: PaymentStatusRef
    payment_method: PaymentMethodRef
    check_number: str | None = None
    ach_trace_number: str | None = None
    virtual_card: VirtualCard | None = None
    payee_external_vendor_code: str
    remittances: list[Remittance] = []

    @property
    def is_settled(self) -> bool:
        return self.status.description in (PaymentStatus.SENT, PaymentStatus.CLEARED)


class InvalidPayment(Model):
    """A payment AvidXchange listed that breaks the contract (an unknown status or method): failed alone."""

    model_config = ConfigDict(frozen=True)

    payment_id: str
    errors: str


class PaymentWindow(Model):
    """The payments modified in [modified_from, modified_to], read whole (one snapshot of the window)."""

    model_config = ConfigDict(frozen=True)

    modified_from: AwareDatetime
    modified_to: AwareDatetime
    items: list[AvidPayment]
    invalid: list[InvalidPayment] = []

    def after(self, instant: dt.datetime) -> PaymentWindow:
        """This window less the payments modified at or before ``instant`` (read already with the window before)."""
        return self.model_copy(update={"items": [p for p in self.items if p.last_modified_date > instant]})


class BatchItemResult(AvidModel):
    """One item's outcome in a batch upsert (HTTP 200 even when it failed)."""

    successful: bool
    errors: list[str] = []
    item: dict[str, Any] = {}

    @field_validator("errors", mode="before")
    @classmethod
    def _error_messages(cls, value: object) -> object:
        if isinstance(value, list):
            return [e.get("Message", str(e)) if isinstance(e, dict) else e for e in value]
        return value

    @property
    def id(self) -> str | None:
        value = self.item.get("Id")
        return value if isinstance(value, str) else None
