"""AvidConnect records as the wire shows them (PascalCase JSON), and the simulator's stored records.

Field length limits are the simulator's own choice (AvidXchange does not publish them); README.md lists them.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, computed_field
from pydantic.alias_generators import to_pascal

CENT = Decimal("0.01")


def _to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


Money = Annotated[Decimal, Field(max_digits=15, decimal_places=2), AfterValidator(_to_cents)]


def _text(max_length: int, *, required: bool = False) -> Any:
    return StringConstraints(strip_whitespace=True, min_length=1 if required else None, max_length=max_length)


Text20 = Annotated[str, _text(20)]
Text30 = Annotated[str, _text(30)]
Text50 = Annotated[str, _text(50)]
Text100 = Annotated[str, _text(100)]
Text200 = Annotated[str, _text(200)]
Text254 = Annotated[str, _text(254)]
Text500 = Annotated[str, _text(500)]
Required50 = Annotated[str, _text(50, required=True)]
Required100 = Annotated[str, _text(100, required=True)]


class WireModel(BaseModel):
    """PascalCase on the wire, snake_case in Python; unknown fields are ignored as a real API would."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="ignore")

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class InvoiceStatus(enum.StrEnum):
    RECEIVED = "Received"
    IN_APPROVAL = "InApproval"
    APPROVED = "Approved"
    REJECTED = "Rejected"
    PAID = "Paid"
    VOID = "Void"


class PaymentStatus(enum.IntEnum):
    SUBMITTED = 1
    PROCESSING = 2
    SENT = 3
    CLEARED = 4
    VOID = 5
    ERROR = 6

    @property
    def description(self) -> str:
        return self.name.capitalize()


class PaymentMethod(enum.IntEnum):
    CHECK = 1
    ACH = 2
    VIRTUAL_CARD = 3

    @property
    def description(self) -> str:
        return {
            PaymentMethod.CHECK: "Check",
            PaymentMethod.ACH: "ACH",
            PaymentMethod.VIRTUAL_CARD: "VirtualCard",
        }[self]

    @classmethod
    def from_description(cls, description: str) -> PaymentMethod:
        for method in cls:
            if method.description.lower() == description.strip().lower():
                return method
        names = ", ".join(m.description for m in cls)
        raise ValueError(f"unknown payment method {description!r}; use one of {names}")


# --- vendors ------------------------------------------------------------------------------------------------


class Address(WireModel):
    line1: Text100 = ""
    line2: Text100 = ""
    line3: Text100 = ""
    city: Text50 = ""
    state: Text50 = ""
    postal_code: Text20 = ""
    country: Text50 = ""


class VendorIn(WireModel):
    external_vendor_code: Required50
    name: Required100
    name_on_check: Text100 = ""
    fed_tax_id: Text20 = ""
    address: Address = Field(default_factory=Address)
    telephone: Text30 = ""
    email: Text254 = ""
    payment_terms_code: Text20 = ""
    active: bool = True


class VendorRecord(VendorIn):
    id: str
    last_modified_date: dt.datetime


# --- enterprise codes ---------------------------------------------------------------------------------------


class EnterpriseCodeIn(WireModel):
    group_name: Required50
    code_value: Required50
    description: Text200 = ""
    is_active: bool = True

    @property
    def key(self) -> tuple[str, str]:
        return (self.group_name, self.code_value)


class EnterpriseCodeRecord(EnterpriseCodeIn):
    id: str
    last_modified_date: dt.datetime


# --- invoices -----------------------------------------------------------------------------------------------


class CodeRef(WireModel):
    group_name: Required50
    code_value: Required50


class DistributionIn(WireModel):
    amount: Money
    description: Text200 = ""
    enterprise_codes: list[CodeRef] = Field(min_length=1)


class InvoiceIn(WireModel):
    number: Required50
    vendor_external_code: Required50
    invoice_date: dt.date
    due_date: dt.date | None = None
    gross_amount: Money
    po_number: Text50 = Field(default="", alias="PONumber")
    memo: Text500 = ""
    distributions: list[DistributionIn] = Field(min_length=1)


class InvoiceRecord(InvoiceIn):
    id: str
    status: InvoiceStatus = InvoiceStatus.RECEIVED
    has_image: bool = False
    image_sha256: str | None = None
    image_content_type: str | None = None
    image_size: int | None = None
    amount_paid: Money = Decimal("0.00")
    created_date: dt.datetime
    last_changed_date: dt.datetime

    @computed_field(alias="Balance")  # type: ignore[prop-decorator]
    @property
    def balance(self) -> Decimal:
        return self.gross_amount - self.amount_paid


# --- payments -----------------------------------------------------------------------------------------------


class Remittance(WireModel):
    invoice_id: str
    invoice_number: str
    gross: Money
    discount: Money
    net: Money


class VirtualCard(WireModel):
    last4: str
    expiration_month: int
    expiration_year: int


class PaymentRecord(WireModel):
    payment_id: str
    number: str
    amount: Money
    payment_date: dt.date
    cleared_date: dt.date | None = None
    last_modified_date: dt.datetime
    status: PaymentStatus
    payment_method: PaymentMethod
    check_number: str | None = None
    ach_trace_number: str | None = None
    virtual_card: VirtualCard | None = None
    payee_external_vendor_code: str
    remittances: list[Remittance]

    def wire(self) -> dict[str, Any]:
        body = super().wire()
        body["Status"] = {"Id": int(self.status), "Description": self.status.description}
        body["PaymentMethod"] = {
            "Id": int(self.payment_method),
            "Description": self.payment_method.description,
        }
        return body


class Company(WireModel):
    company_id: str
    name: str
