"""The records of contract v1 as pydantic models: what backends return and what the HTTP layer serves.

Field names are Sage 100's column names without the ProvideX ``$`` suffix. Dates stay Sage's ``YYYYMMDD``
strings on the wire; amounts are ``Decimal`` inside and two-decimal JSON strings outside.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from sage_agent.sage_text import require_storable
from sage_agent.sage_time import SageStamp, format_sage_date, parse_sage_date

DATE_PATTERN = r"^[0-9]{8}$"
TIME_PATTERN = r"^[0-9]{1,2}\.[0-9]{5}$"
DIVISION_PATTERN = r"^[0-9]{2}$"
COMPANY_PATTERN = r"^[A-Z0-9]{3}$"
_AMOUNT_RE = re.compile(r"-?[0-9]{1,12}\.[0-9]{2}")
_CENT = Decimal("0.01")


def _parse_amount(value: object) -> Decimal:
    if isinstance(value, Decimal):
        if value != value.quantize(_CENT):
            raise ValueError(f"amount {value} has more than two decimals")
        return value.quantize(_CENT)
    if isinstance(value, str) and _AMOUNT_RE.fullmatch(value):
        return Decimal(value)
    raise ValueError('must be a string amount with two decimals, e.g. "1250.00"')


def _parse_date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return parse_sage_date(value)
    raise ValueError("must be a YYYYMMDD string")


Amount = Annotated[
    Decimal,
    PlainValidator(_parse_amount),
    PlainSerializer(lambda amount: f"{amount:.2f}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]{1,12}\.[0-9]{2}$", "examples": ["1250.00"]}),
]
"""Money: Decimal with two places; JSON string with two decimals (never a float)."""

SageDate = Annotated[
    dt.date,
    PlainValidator(_parse_date),
    PlainSerializer(format_sage_date, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DATE_PATTERN, "examples": ["20261120"]}),
]
"""A Sage ``YYYYMMDD`` date, parsed to ``date`` at the edge."""

SageDateText = Annotated[str, Field(pattern=DATE_PATTERN)]
SageTimeText = Annotated[str, Field(pattern=TIME_PATTERN)]
DivisionNo = Annotated[str, Field(pattern=DIVISION_PATTERN)]
VendorNo = Annotated[str, Field(min_length=1, max_length=7, pattern=r"^[A-Z0-9]+$")]
InvoiceNo = Annotated[str, Field(min_length=1, max_length=10)]
YesNo = Literal["Y", "N"]
RecordStatus = Literal["A", "I", "D"]


class SageRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChangeTracked(SageRecord):
    """A record the change feed pages over, ordered by (DateUpdated, TimeUpdated, key)."""

    DateUpdated: SageDateText
    TimeUpdated: SageTimeText

    def record_key(self) -> tuple[str | int, ...]:
        raise NotImplementedError

    def change_position(self) -> tuple[SageStamp, tuple[str | int, ...]]:
        return SageStamp.from_fields(self.DateUpdated, self.TimeUpdated), self.record_key()


class VendorFields(SageRecord):
    """AP_Vendor columns a user (or the simulated backend's Python API) can set."""

    APDivisionNo: DivisionNo
    VendorNo: VendorNo
    VendorName: str = Field(min_length=1, max_length=30)
    AddressLine1: str = Field(default="", max_length=30)
    AddressLine2: str = Field(default="", max_length=30)
    AddressLine3: str = Field(default="", max_length=30)
    City: str = Field(default="", max_length=20)
    State: str = Field(default="", max_length=2)
    ZipCode: str = Field(default="", max_length=10)
    CountryCode: str = Field(default="USA", max_length=3)
    TelephoneNo: str = Field(default="", max_length=17)
    EmailAddress: str = Field(default="", max_length=250)
    TaxpayerIDSocialSecurityNo: str = Field(default="", max_length=9, pattern=r"^[0-9]{0,9}$")
    TermsCode: str = Field(default="", max_length=2)
    VendorStatus: Literal["A", "I", "T"] = "A"
    HoldPayment: YesNo = "N"


class Vendor(VendorFields, ChangeTracked):
    DateCreated: SageDateText
    TimeCreated: SageTimeText

    def record_key(self) -> tuple[str | int, ...]:
        return (self.APDivisionNo, self.VendorNo)


class AccountSegment(SageRecord):
    SegmentNo: int = Field(ge=1, le=9)
    SubAccountCode: str = Field(max_length=15)


class GLAccount(ChangeTracked):
    AccountKey: str = Field(min_length=1, max_length=9)
    Account: str = Field(max_length=41)
    AccountDesc: str = Field(max_length=50)
    MainAccountCode: str = Field(max_length=15)
    AccountType: str = Field(pattern=r"^[0-9]{2}$")
    Status: RecordStatus
    Segments: list[AccountSegment]

    def record_key(self) -> tuple[str | int, ...]:
        return (self.AccountKey,)


class GLSegment(SageRecord):
    SegmentNo: int = Field(ge=1, le=9)
    SegmentName: str
    Length: int = Field(ge=1, le=15)


class SegmentValue(ChangeTracked):
    SegmentNo: int = Field(ge=1, le=9)
    SubAccountCode: str = Field(min_length=1, max_length=15)
    SubAccountDesc: str = Field(max_length=40)
    Status: RecordStatus

    def record_key(self) -> tuple[str | int, ...]:
        return (self.SegmentNo, self.SubAccountCode)


class InvoiceLine(SageRecord):
    AccountKey: str = Field(min_length=1, max_length=9)
    Account: str = Field(max_length=41)
    DistributionAmt: Amount
    Comment: str = Field(default="", max_length=30)


class InvoiceHeaderFields(SageRecord):
    """The open invoice header columns a user can set."""

    APDivisionNo: DivisionNo
    VendorNo: VendorNo
    InvoiceNo: InvoiceNo
    HeaderSeqNo: str = Field(default="000000", pattern=r"^[0-9]{6}$")
    InvoiceDate: SageDateText
    InvoiceDueDate: SageDateText
    TermsCode: str = Field(default="", max_length=2)
    HoldPayment: YesNo = "N"
    Comment: str = Field(default="", max_length=40)
    PurchaseOrderNo: str = Field(default="", max_length=7)

    @field_validator("InvoiceDate", "InvoiceDueDate")
    @classmethod
    def _calendar_date(cls, value: str) -> str:
        parse_sage_date(value)
        return value


class OpenInvoice(InvoiceHeaderFields, ChangeTracked):
    InvoiceAmt: Amount
    Balance: Amount
    Lines: list[InvoiceLine]
    HasImage: bool

    def record_key(self) -> tuple[str | int, ...]:
        return (self.APDivisionNo, self.VendorNo, self.InvoiceNo)


class PaymentMethod(StrEnum):
    CHECK = "check"
    ACH = "ach"
    VIRTUAL_CARD = "virtual_card"


class ManualCheckLine(SageRecord):
    InvoiceNo: InvoiceNo
    HeaderSeqNo: str = Field(default="000000", pattern=r"^[0-9]{6}$")
    AmountPaid: Amount
    DiscountAmt: Amount = Decimal("0.00")


class ManualCheck(SageRecord):
    """The body of ``POST .../ap/payments``: a payment made outside Sage, recorded as an AP manual check."""

    BankCode: str = Field(pattern=r"^[A-Z0-9]$")
    CheckNo: str = Field(min_length=1, max_length=10, pattern=r"^[A-Za-z0-9-]+$")
    CheckDate: SageDate
    APDivisionNo: DivisionNo
    VendorNo: VendorNo
    PaymentMethod: PaymentMethod
    Reference: str = Field(default="", max_length=30)
    Comment: str = Field(default="", max_length=30)
    Lines: list[ManualCheckLine] = Field(min_length=1, max_length=200)

    @field_validator("Reference", "Comment")
    @classmethod
    def _storable_in_sage(cls, value: str) -> str:
        return require_storable(value)

    @field_validator("Reference")
    @classmethod
    def _card_reference_is_last_four(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("PaymentMethod") is PaymentMethod.VIRTUAL_CARD and not re.fullmatch(r"([0-9]{4})?", value):
            raise ValueError("a virtual card payment carries only the card's last four digits, never the number")
        return value


class RecordedManualCheck(ManualCheck):
    Posted: bool


class ManualCheckResult(SageRecord):
    BankCode: str
    CheckNo: str
    BatchNo: str
    Posted: bool
    CheckAmt: Amount


class CompanyInfo(SageRecord):
    CompanyCode: str = Field(pattern=COMPANY_PATTERN)
    CompanyName: str
    APDivisionsEnabled: bool
    APModuleDate: SageDateText
    BankCodes: list[str]


class Health(BaseModel):
    agent_version: str
    sage_version: str
    companies: list[str]
    server_time: str = Field(pattern=r"^[0-9]{8}T[0-9]{2}:[0-9]{2}:[0-9]{2}$")


ItemT = TypeVar("ItemT", bound=BaseModel)


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None


class SegmentList(BaseModel):
    items: list[GLSegment]


def field_problems(errors: list[Any], *, prefix: tuple[str | int, ...] = ()) -> list[tuple[str, str]]:
    """pydantic error dicts -> (``Lines[0].AmountPaid``, message) pairs."""
    problems = []
    for error in errors:
        loc = tuple(error.get("loc", ()))[len(prefix) :]
        problems.append((dotted_field(loc), str(error.get("msg", "invalid"))))
    return problems


def dotted_field(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"
