"""The Sage 100 agent's records as the connector sees them (contract: sage100-agent-api.md).

Field names follow the Sage 100 columns (``VendorNo`` is ``vendor_no``, serialised by alias). Sage's own formats are
parsed here, once: ``YYYYMMDD`` dates into ``date``, decimal-hours times (``"13.52345"``) into ``time``, amounts into
``Decimal``, ``Y``/``N`` flags into ``bool``; Sage's field lengths are enforced so that a record that would not fit
Sage fails here, named, instead of deep inside a sync.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    model_validator,
)

from ml_connector.domain.amounts import Amount
from ml_connector.domain.wire import PascalModel
from ml_connector.model import Model

SECONDS_PER_HOUR = Decimal(3600)
HOURS_PLACES = Decimal("0.00001")


def parse_sage_date(value: object) -> object:
    """``"20261120"`` -> date(2026, 11, 20); dates already parsed pass through."""
    if isinstance(value, str):
        if len(value) != 8 or not value.isdigit():
            raise ValueError(f"date {value!r} is not YYYYMMDD")
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    return value


def parse_optional_sage_date(value: object) -> object:
    """Sage leaves unset dates blank: ``""`` -> None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_sage_date(value)


def format_sage_date(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def parse_decimal_hours(value: object) -> object:
    """``"13.52345"`` (hours since midnight) -> time(13, 31, 24, 420000); ``time`` values pass through."""
    if isinstance(value, dt.time):
        return value
    if not isinstance(value, str):
        raise ValueError(f"time {value!r} is not a decimal-hours string")
    try:
        hours = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"time {value!r} is not a decimal-hours string") from None
    if not hours.is_finite() or not Decimal(0) <= hours <= Decimal(24):
        raise ValueError(f"time {value!r} is outside 0..24 hours")
    micros = int((hours * SECONDS_PER_HOUR * 1_000_000).to_integral_value(ROUND_HALF_UP))
    micros = min(micros, 24 * 3600 * 1_000_000 - 1)
    seconds, micro = divmod(micros, 1_000_000)
    return dt.time(seconds // 3600, seconds % 3600 // 60, seconds % 60, micro)


def format_decimal_hours(value: dt.time) -> str:
    seconds = Decimal(value.hour * 3600 + value.minute * 60 + value.second) + Decimal(value.microsecond) / 10**6
    return str((seconds / SECONDS_PER_HOUR).quantize(HOURS_PLACES, ROUND_HALF_UP))


def parse_yes_no(value: object) -> object:
    if value in ("Y", "N"):
        return value == "Y"
    if isinstance(value, bool):
        return value
    raise ValueError(f"flag {value!r} is not Y or N")


def parse_agent_timestamp(value: object) -> object:
    """``"20261120T14:02:11"`` (agent-local, no zone) -> naive datetime."""
    if isinstance(value, str):
        try:
            return dt.datetime.strptime(value, "%Y%m%dT%H:%M:%S")
        except ValueError:
            raise ValueError(f"timestamp {value!r} is not YYYYMMDDTHH:MM:SS") from None
    return value


def format_agent_timestamp(value: dt.datetime) -> str:
    """The ``updated_since`` query format; ``value`` must be agent-local and naive."""
    if value.tzinfo is not None:
        raise ValueError(
            f"updated_since {value.isoformat()} carries a time zone; convert it to the agent's local time "
            "(naive datetime, e.g. with the skew measured from health())"
        )
    return value.strftime("%Y%m%dT%H:%M:%S")


def _digits(count: int, spelled: str) -> Callable[[str], str]:
    """A validator of strings of exactly ``count`` digits."""

    def check(value: str) -> str:
        if len(value) != count or not value.isdigit():
            raise ValueError(f"{value!r} is not {spelled} digits")
        return value

    return check


SageDate = Annotated[
    dt.date,
    BeforeValidator(parse_sage_date),
    PlainSerializer(format_sage_date, return_type=str, when_used="json"),
]
OptionalSageDate = Annotated[
    dt.date | None,
    BeforeValidator(parse_optional_sage_date),
    PlainSerializer(lambda d: format_sage_date(d) if d else "", return_type=str, when_used="json"),
]
SageTime = Annotated[
    dt.time,
    BeforeValidator(parse_decimal_hours),
    PlainSerializer(format_decimal_hours, return_type=str, when_used="json"),
]
OptionalSageTime = Annotated[
    dt.time | None,
    BeforeValidator(lambda v: None if v is None or v == "" else parse_decimal_hours(v)),
    PlainSerializer(lambda t: format_decimal_hours(t) if t else "", return_type=str, when_used="json"),
]
YesNo = Annotated[
    bool,
    BeforeValidator(parse_yes_no),
    PlainSerializer(lambda b: "Y" if b else "N", return_type=str, when_used="json"),
]
AgentTimestamp = Annotated[
    dt.datetime,
    BeforeValidator(parse_agent_timestamp),
    PlainSerializer(format_agent_timestamp, return_type=str, when_used="json"),
]
CompanyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{3}$")]
TwoDigits = Annotated[str, AfterValidator(_digits(2, "two"))]
DivisionNo = TwoDigits
HeaderSeqNo = Annotated[str, AfterValidator(_digits(6, "six"))]


Text7 = Annotated[str, StringConstraints(max_length=7)]
Text10 = Annotated[str, StringConstraints(max_length=10)]
Text2 = Annotated[str, StringConstraints(max_length=2)]
Text3 = Annotated[str, StringConstraints(max_length=3)]
Text9 = Annotated[str, StringConstraints(max_length=9)]
Text15 = Annotated[str, StringConstraints(max_length=15)]
Text17 = Annotated[str, StringConstraints(max_length=17)]
Text20 = Annotated[str, StringConstraints(max_length=20)]
Text30 = Annotated[str, StringConstraints(max_length=30)]
Text40 = Annotated[str, StringConstraints(max_length=40)]
Text41 = Annotated[str, StringConstraints(max_length=41)]
Text50 = Annotated[str, StringConstraints(max_length=50)]
Text250 = Annotated[str, StringConstraints(max_length=250)]
VendorNo = Annotated[str, StringConstraints(min_length=1, max_length=7)]
InvoiceNo = Annotated[str, StringConstraints(min_length=1, max_length=10)]
BankCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]$")]
CheckNo = Annotated[str, StringConstraints(min_length=1, max_length=10, pattern=r"^[A-Za-z0-9-]+$")]
AccountKey = Annotated[str, StringConstraints(min_length=1, max_length=9)]


class SageModel(PascalModel):
    """Agent JSON uses the Sage column names (PascalCase); Python uses snake_case."""


class ChangeStamped(SageModel):
    date_updated: SageDate
    time_updated: SageTime

    @property
    def updated_at(self) -> dt.datetime:
        """When Sage last wrote the record, in the agent's local time (naive)."""
        return dt.datetime.combine(self.date_updated, self.time_updated)


class AgentHealth(Model):
    """``GET /v1/health`` (snake_case keys in the contract)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    agent_version: str
    sage_version: str
    companies: list[CompanyCode]
    server_time: AgentTimestamp


class CompanyInfo(SageModel):
    company_code: CompanyCode
    company_name: str
    ap_divisions_enabled: bool = Field(alias="APDivisionsEnabled")
    ap_module_date: SageDate = Field(alias="APModuleDate")
    bank_codes: list[BankCode]


class GLSegment(SageModel):
    segment_no: int = Field(ge=1)
    segment_name: str
    length: int = Field(ge=1)


class VendorStatus(StrEnum):
    ACTIVE = "A"
    INACTIVE = "I"
    TEMPORARY = "T"


class SageVendor(ChangeStamped):
    ap_division_no: DivisionNo = Field(alias="APDivisionNo")
    vendor_no: VendorNo
    vendor_name: Text30
    address_line1: Text30 = ""
    address_line2: Text30 = ""
    address_line3: Text30 = ""
    city: Text20 = ""
    state: Text2 = ""
    zip_code: Text10 = ""
    country_code: Text3 = ""
    telephone_no: Text17 = ""
    email_address: Text250 = ""
    taxpayer_id_social_security_no: Text9 = Field(default="", alias="TaxpayerIDSocialSecurityNo", repr=False)
    terms_code: Text2 = ""
    vendor_status: VendorStatus
    hold_payment: YesNo
    date_created: OptionalSageDate = None
    time_created: OptionalSageTime = None

    @property
    def key(self) -> str:
        """``APDivisionNo-VendorNo``, e.g. ``01-ACME`` (also the AvidXchange ExternalVendorCode)."""
        return f"{self.ap_division_no}-{self.vendor_no}"


class RecordStatus(StrEnum):
    ACTIVE = "A"
    INACTIVE = "I"
    DELETED = "D"


class AccountSegment(SageModel):
    segment_no: int = Field(ge=1)
    sub_account_code: Text15


class GLAccount(ChangeStamped):
    account_key: AccountKey
    account: Text41
    account_desc: Text50 = ""
    main_account_code: Text15 = ""
    account_type: TwoDigits
    status: RecordStatus
    segments: list[AccountSegment] = []

    @property
    def key(self) -> str:
        return self.account_key


class SegmentValue(ChangeStamped):
    segment_no: int = Field(ge=1)
    sub_account_code: Text15
    sub_account_desc: Text40 = ""
    status: RecordStatus

    @property
    def key(self) -> str:
        return f"{self.segment_no}-{self.sub_account_code}"


class InvoiceLine(SageModel):
    account_key: AccountKey
    account: Text41
    distribution_amt: Amount
    comment: Text30 = ""


class OpenInvoice(ChangeStamped):
    ap_division_no: DivisionNo = Field(alias="APDivisionNo")
    vendor_no: VendorNo
    invoice_no: InvoiceNo
    header_seq_no: HeaderSeqNo
    invoice_date: SageDate
    invoice_due_date: OptionalSageDate = None
    terms_code: Text2 = ""
    invoice_amt: Amount
    balance: Amount
    hold_payment: YesNo
    comment: Text40 = ""
    purchase_order_no: Text7 = ""
    lines: list[InvoiceLine] = []
    has_image: bool = False

    @model_validator(mode="after")
    def _lines_add_up(self) -> OpenInvoice:
        total = sum((line.distribution_amt for line in self.lines), Decimal("0.00"))
        if self.lines and total != self.invoice_amt:
            raise ValueError(f"invoice {self.key}: distribution lines sum to {total}, InvoiceAmt is {self.invoice_amt}")
        return self

    @property
    def key(self) -> str:
        """``APDivisionNo-VendorNo/InvoiceNo``, e.g. ``01-ACME/10045``."""
        return f"{self.vendor_key}/{self.invoice_no}"

    @property
    def vendor_key(self) -> str:
        """The vendor's key (``SageVendor.key``), e.g. ``01-ACME``: its ExternalVendorCode in AvidXchange."""
        return f"{self.ap_division_no}-{self.vendor_no}"

    @property
    def is_credit_memo(self) -> bool:
        return self.invoice_amt < 0


class PaymentMethod(StrEnum):
    CHECK = "check"
    ACH = "ach"
    VIRTUAL_CARD = "virtual_card"


class ManualCheckLine(SageModel):
    invoice_no: InvoiceNo
    header_seq_no: HeaderSeqNo = "000000"
    amount_paid: Amount
    discount_amt: Amount = Decimal("0.00")


class ManualCheck(SageModel):
    """An AP manual check to record in Sage for a payment made in AvidXchange."""

    bank_code: BankCode
    check_no: CheckNo
    check_date: SageDate
    ap_division_no: DivisionNo = Field(alias="APDivisionNo")
    vendor_no: VendorNo
    payment_method: PaymentMethod
    # ACH trace number (15 digits) or a virtual card's last four; never a full card number.
    reference: Text30 = ""
    comment: Text30 = ""
    lines: list[ManualCheckLine] = Field(min_length=1)

    @model_validator(mode="after")
    def _card_reference_is_last_four(self) -> ManualCheck:
        if self.payment_method is PaymentMethod.VIRTUAL_CARD and not re.fullmatch(r"(\d{4})?", self.reference):
            raise ValueError("a virtual card payment carries only the card's last four digits, never the number")
        return self

    @property
    def key(self) -> str:
        """``BankCode/CheckNo``, unique in Sage."""
        return f"{self.bank_code}/{self.check_no}"

    @property
    def check_amount(self) -> Decimal:
        return sum((line.amount_paid for line in self.lines), Decimal("0.00"))


class RecordedManualCheck(ManualCheck):
    posted: bool


class ManualCheckResult(SageModel):
    bank_code: BankCode
    check_no: CheckNo
    batch_no: str = ""
    posted: bool
    check_amt: Amount


class InvalidRecord(Model):
    """A list item the agent returned that breaks Sage's rules: kept (never dropped) so the stage can audit it."""

    model_config = ConfigDict(frozen=True)

    key: str
    errors: list[str]


T = TypeVar("T", bound=SageModel)


class Page(Model, Generic[T]):
    """One page of a list endpoint; ``next_cursor`` is None on the last page."""

    model_config = ConfigDict(frozen=True)

    items: list[T]
    next_cursor: str | None
    invalid: list[InvalidRecord] = []
