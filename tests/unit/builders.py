"""Records of both systems, and fakes that page, refuse and record, for the unit tests of the sync stages.

``PagedAgent`` pages its lists and returns unreadable records; ``RecordingAvid`` refuses named batch items, answers
a create without an answer on request, keeps uploaded images on their invoice and records what it was asked.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from ml_connector import fault_points
from ml_connector.domain.avid import (
    AvidInvoice,
    AvidPayment,
    AvidVendor,
    BatchItemResult,
    EnterpriseCode,
    InvalidPayment,
    InvoiceStatus,
    NewInvoice,
    PaymentWindow,
)
from ml_connector.domain.sage import GLAccount, InvalidRecord, OpenInvoice, Page, SageModel, SageVendor, SegmentValue
from ml_connector.errors import OutcomeUnknown
from ml_connector.kinds import RecordKind, Stage
from ml_connector.messages import RecordRetry
from ml_connector.stages.context import StageContext, TimeBudget
from ml_connector.stages.gl import sync_gl
from ml_connector.stages.vendors import sync_vendors
from ml_connector.state.models import FailedRecord
from tests.fakes import FakeAgent, FakeAvid, FakeImage, Systems
from tests.support.customers import make_customer

CUSTOMER = "acme-build"
T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
ACCOUNT_KEY = "000000123"
CHECK_NUMBER = "104522"
ACH_TRACE = "021000021234567"
CARD_LAST4 = "4242"

R = TypeVar("R", bound=SageModel)
U = TypeVar("U", AvidVendor, EnterpriseCode)


# -- Sage 100 records ------------------------------------------------------------------------------------------------


def sage_vendor(
    vendor_no: str = "ACME",
    *,
    name: str | None = None,
    status: str = "A",
    hold: str = "N",
    tax_id: str = "",
    updated: str = "20261101",
) -> SageVendor:
    return SageVendor.model_validate(
        {"APDivisionNo": "01", "VendorNo": vendor_no, "VendorName": name or f"{vendor_no} Supply",
         "VendorStatus": status, "HoldPayment": hold, "TaxpayerIDSocialSecurityNo": tax_id, "DateUpdated": updated,
         "TimeUpdated": "9.5"}
    )  # fmt: skip


def gl_account(
    key: str = ACCOUNT_KEY, number: str = "6100-300", *, cost_center: str = "300", status: str = "A"
) -> GLAccount:
    return GLAccount.model_validate(
        {"AccountKey": key, "Account": number, "AccountDesc": "Materials", "MainAccountCode": number[:4],
         "AccountType": "05", "Status": status,
         "Segments": [{"SegmentNo": 1, "SubAccountCode": number[:4]}, {"SegmentNo": 3, "SubAccountCode": cost_center}],
         "DateUpdated": "20261101", "TimeUpdated": "9.5"}
    )  # fmt: skip


def segment_value(code: str = "300", *, segment_no: int = 3, status: str = "A") -> SegmentValue:
    return SegmentValue.model_validate(
        {"SegmentNo": segment_no, "SubAccountCode": code, "SubAccountDesc": f"Site {code}", "Status": status,
         "DateUpdated": "20261101", "TimeUpdated": "9.5"}
    )  # fmt: skip


def open_invoice(
    number: str,
    *,
    vendor_no: str = "ACME",
    amount: str = "1250.00",
    balance: str | None = None,
    account_key: str = ACCOUNT_KEY,
    invoice_date: str = "20261102",
    due: str = "20261202",
    comment: str = "",
    has_image: bool = False,
) -> OpenInvoice:
    return OpenInvoice.model_validate(
        {"APDivisionNo": "01", "VendorNo": vendor_no, "InvoiceNo": number, "HeaderSeqNo": "000000",
         "InvoiceDate": invoice_date, "InvoiceDueDate": due, "TermsCode": "01", "InvoiceAmt": amount,
         "Balance": balance or amount, "HoldPayment": "N", "Comment": comment, "PurchaseOrderNo": "",
         "Lines": [{"AccountKey": account_key, "Account": "6100-300", "DistributionAmt": amount, "Comment": ""}],
         "HasImage": has_image, "DateUpdated": "20261102", "TimeUpdated": "10.0"}
    )  # fmt: skip


def scanned_image(data: bytes = b"%PDF-1.7 invoice", content_type: str = "application/pdf") -> FakeImage:
    return FakeImage(content_type=content_type, data=data, sha256=hashlib.sha256(data).hexdigest())


def unreadable(key: str, error: str = "VendorName: longer than 30 characters") -> InvalidRecord:
    return InvalidRecord(key=key, errors=[error])


# -- AvidXchange payments --------------------------------------------------------------------------------------------


def remittance(invoice_no: str, net: str = "1250.00", discount: str = "0.00") -> dict[str, str]:
    gross = str(Decimal(net) + Decimal(discount))
    return {"InvoiceId": "I-1", "InvoiceNumber": invoice_no, "Gross": gross, "Discount": discount, "Net": net}


def avid_payment(
    payment_id: str,
    *invoice_nos: str,
    amount: str = "1250.00",
    status: str = "Sent",
    method: str = "Check",
    vendor: str = "01-ACME",
    modified: dt.datetime = T0,
    remittances: Sequence[dict[str, str]] = (),
) -> AvidPayment:
    """A payment of ``amount`` on each of ``invoice_nos`` (or of the ``remittances`` given), by ``method``."""
    return AvidPayment.model_validate(
        {"PaymentId": payment_id, "Number": payment_id.removeprefix("P-"), "Amount": amount,
         "PaymentDate": "2026-11-20", "LastModifiedDate": modified.isoformat(),
         "Status": {"Id": 3, "Description": status}, "PaymentMethod": {"Id": 1, "Description": method},
         "CheckNumber": CHECK_NUMBER if method == "Check" else None,
         "AchTraceNumber": ACH_TRACE if method == "ACH" else None,
         "VirtualCard": {"Last4": CARD_LAST4, "ExpirationMonth": 12, "ExpirationYear": 2027}
         if method == "VirtualCard" else None,
         "PayeeExternalVendorCode": vendor,
         "Remittances": list(remittances) or [remittance(n, amount) for n in invoice_nos]}
    )  # fmt: skip


def payment_window(
    *payments: AvidPayment,
    start: dt.datetime = T0 - dt.timedelta(days=1),
    hours: int = 48,
    invalid: Sequence[InvalidPayment] = (),
) -> PaymentWindow:
    return PaymentWindow(
        modified_from=start, modified_to=start + dt.timedelta(hours=hours), items=list(payments), invalid=list(invalid)
    )


# -- fakes with more reach -------------------------------------------------------------------------------------------


class PagedAgent(FakeAgent):
    """A Sage company whose lists come in pages of ``page_size`` (the cursor is the next offset), with each list's
    ``invalid`` records on its first page; every poll is recorded as (list, updated_since, cursor)."""

    def __init__(self) -> None:
        super().__init__()
        self.page_size = 100
        self.invalid: dict[str, list[InvalidRecord]] = {}
        """Unreadable records by list: ``vendors``, ``gl-accounts``, ``segment-{n}``, ``invoices``."""
        self.polls: list[tuple[str, dt.datetime | None, str | None]] = []

    def vendors_page(self, *, updated_since: Any, cursor: Any = None, limit: Any = None) -> Page[SageVendor]:
        return self._paged("vendors", super().vendors_page(updated_since=updated_since), updated_since, cursor, limit)

    def gl_accounts_page(self, *, updated_since: Any, cursor: Any = None, limit: Any = None) -> Page[GLAccount]:
        whole = super().gl_accounts_page(updated_since=updated_since)
        return self._paged("gl-accounts", whole, updated_since, cursor, limit)

    def segment_values_page(
        self, *, segment_no: int, updated_since: Any, cursor: Any = None, limit: Any = None
    ) -> Page[SegmentValue]:
        whole = super().segment_values_page(segment_no=segment_no, updated_since=updated_since)
        return self._paged(f"segment-{segment_no}", whole, updated_since, cursor, limit)

    def open_invoices_page(
        self, *, updated_since: Any, cursor: Any = None, limit: Any = None, **_: Any
    ) -> Page[OpenInvoice]:
        whole = super().open_invoices_page(updated_since=updated_since)
        return self._paged("invoices", whole, updated_since, cursor, limit)

    def polls_of(self, name: str) -> list[tuple[dt.datetime | None, str | None]]:
        return [(since, cursor) for list_name, since, cursor in self.polls if list_name == name]

    def _paged(
        self, name: str, whole: Page[R], updated_since: dt.datetime | None, cursor: str | None, limit: int | None
    ) -> Page[R]:
        self.polls.append((name, updated_since, cursor))
        start = int(cursor or 0)
        end = start + (limit or self.page_size)
        return whole.model_copy(
            update={
                "items": whole.items[start:end],
                "next_cursor": str(end) if end < len(whole.items) else None,
                "invalid": self.invalid.get(name, []) if start == 0 else [],
            }
        )


class RecordingAvid(FakeAvid):
    """AvidXchange, refusing the batch items named in ``refused`` (by vendor code or ``group/code``), creating the
    invoices numbered in ``unanswered`` without answering (503 after the create), keeping an uploaded image on its
    invoice, and recording each batch upsert's keys and each payment-window poll."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: dict[str, list[str]] = {}
        self.unanswered: set[str] = set()
        self.batches: list[list[str]] = []
        self.window_polls: list[tuple[dt.datetime, dt.datetime]] = []

    def upsert_vendors(self, vendors: Sequence[AvidVendor]) -> list[BatchItemResult]:
        return self._refusing(vendors, super().upsert_vendors)

    def upsert_enterprise_codes(self, codes: Sequence[EnterpriseCode]) -> list[BatchItemResult]:
        self.faults.check("upsert_enterprise_codes")
        return self._refusing(codes, super().upsert_enterprise_codes)

    def sent(self) -> list[str]:
        """Every record key a batch upsert carried, in order."""
        return [key for batch in self.batches for key in batch]

    def create_invoice(self, invoice: NewInvoice) -> AvidInvoice:
        created = super().create_invoice(invoice)
        if invoice.number in self.unanswered:
            self.unanswered.discard(invoice.number)
            raise OutcomeUnknown(f"AvidXchange did not answer the create of invoice {invoice.number} (503)")
        return created

    def upload_invoice_image(
        self, invoice_id: str, *, filename: str, content_type: str, content: Iterable[bytes]
    ) -> None:
        data = b"".join(content)
        super().upload_invoice_image(invoice_id, filename=filename, content_type=content_type, content=[data])
        digest = hashlib.sha256(data).hexdigest()
        self.invoices = [
            i.model_copy(update={"has_image": True, "image_sha256": digest}) if i.id == invoice_id else i
            for i in self.invoices
        ]

    def set_status(self, number: str, status: InvoiceStatus) -> None:
        self.invoices = [i.model_copy(update={"status": status}) if i.number == number else i for i in self.invoices]

    def payment_windows(self, *, modified_from: dt.datetime, modified_to: dt.datetime) -> Iterator[PaymentWindow]:
        self.window_polls.append((modified_from, modified_to))
        return super().payment_windows(modified_from=modified_from, modified_to=modified_to)

    def _refusing(
        self, items: Sequence[U], upsert: Callable[[list[U]], list[BatchItemResult]]
    ) -> list[BatchItemResult]:
        self.batches.append([item.key for item in items])
        answers = iter(upsert([item for item in items if item.key not in self.refused]))
        return [
            BatchItemResult(successful=False, errors=self.refused[item.key]) if item.key in self.refused
            else next(answers)
            for item in items
        ]  # fmt: skip


@dataclass
class RecordingSealer:
    """Seals into an opaque envelope and records what it sealed, with its context."""

    sealed: list[tuple[Any, dict[str, str]]] = field(default_factory=list)

    def seal(self, payload: Any, context: dict[str, str]) -> dict[str, str]:
        self.sealed.append((payload, context))
        return {"ciphertext": f"sealed-{len(self.sealed)}"}

    def open(self, sealed: dict[str, str], context: dict[str, str]) -> Any:
        raise AssertionError("nothing reads sealed payloads back in these tests")


@dataclass
class Company(Systems):
    """One customer's fakes with paging, refusals and recording."""

    agent: PagedAgent = field(default_factory=PagedAgent)
    avid: RecordingAvid = field(default_factory=RecordingAvid)
    sealer: RecordingSealer = field(default_factory=RecordingSealer)

    def context(self, *, budget: TimeBudget | None = None) -> StageContext:
        return dataclasses.replace(super().context(budget=budget), sealer=self.sealer)

    def settings(self, **customer_fields: Any) -> None:
        self.customer = make_customer(CUSTOMER, **customer_fields)

    def failure(self, key: str) -> FailedRecord:
        """The open failure of the record ``key`` (there must be exactly one)."""
        (failure,) = [f for f in self.state.list_failures(CUSTOMER) if f.source_key == key]
        return failure

    def failed_keys(self) -> list[str]:
        return sorted(f.source_key for f in self.state.list_failures(CUSTOMER))


def company(**customer_fields: Any) -> Company:
    return Company(customer=make_customer(CUSTOMER, **customer_fields))


def ready_company(**customer_fields: Any) -> Company:
    """A company whose vendor ACME, account 6100-300 (``ACCOUNT_KEY``) and cost center 300 are synced."""
    made = company(**customer_fields)
    made.agent.vendors = {"01-ACME": sage_vendor("ACME")}
    made.agent.values = {"3-300": segment_value("300")}
    made.agent.accounts = {ACCOUNT_KEY: gl_account()}
    sync_vendors(made.context())
    sync_gl(made.context())
    return made


def out_of_time() -> TimeBudget:
    """A budget already spent: a run does the least it must (its first page) and stops."""
    return TimeBudget(lambda: 0, reserve_ms=0)


def time_while(going: Callable[[], bool]) -> TimeBudget:
    """A budget that lasts while ``going()`` holds."""
    return TimeBudget(lambda: 600_000 if going() else 0, reserve_ms=0)


def retry_of(kind: RecordKind, key: str, stage: Stage) -> RecordRetry:
    return RecordRetry(customer_id=CUSTOMER, stage=stage, kind=kind, source_key=key, reason="503", first_failed_at=T0)


@contextlib.contextmanager
def at_point(point: str, action: Callable[[], None]) -> Iterator[None]:
    """Run ``action`` the first time the sync reaches the named fault point (inside the block)."""

    def hook(reached: str) -> bool:
        if reached == point:
            fault_points.install(None)
            action()
        return False

    fault_points.install(hook)
    try:
        yield
    finally:
        fault_points.install(None)


class Crash(BaseException):
    """The process dies where it stands, as Lambda ending an invocation: nothing after it runs."""


def crash_at(point: str) -> contextlib.AbstractContextManager[None]:
    def crash() -> None:
        raise Crash(point)

    return at_point(point, crash)
