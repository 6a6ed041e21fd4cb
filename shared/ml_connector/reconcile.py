"""Reconciliation: read both ledgers and the connector's mappings, and report where they disagree.

Read-only on both sides and in the connector's state. Every list is read page by page and projected to the few fields
compared; projections are sorted on disk when they exceed a run (``sorted_streams``) and joined in key order, so a
company of any size is compared in bounded memory. Keyed reads are made only for records already in drift, and for
each manual check the connector posted (the agent has no list of manual checks: they are read back by BankCode +
CheckNo from the payment mappings). A check entered by hand in Sage shows up as an invoice whose Sage balance is
below what AvidXchange has left to pay (``balance_differs``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

from ml_connector.customers import Customer
from ml_connector.domain.avid import (
    AvidInvoice,
    AvidPayment,
    EnterpriseCode,
    EnterpriseCodeRecord,
    InvoiceStatus,
    PaymentStatus,
)
from ml_connector.domain.gl_mapping import ACCOUNTING_CODES_GROUP, account_code, segment_group_name, segment_value_code
from ml_connector.domain.payment_mapping import is_due_for_posting
from ml_connector.domain.sage import GLSegment, OpenInvoice, Page, SageModel, SageVendor, SegmentValue
from ml_connector.domain.vendor_mapping import to_avid_vendor
from ml_connector.kinds import RecordKind
from ml_connector.model import Model
from ml_connector.ports import AvidConnect, SageAgent, StateStore
from ml_connector.reconcile_report import (
    ZERO,
    AvidTotals,
    ConnectorTotals,
    DriftCollector,
    DriftKind,
    ReconciliationReport,
    SageTotals,
)
from ml_connector.sorted_streams import DEFAULT_RUN_SIZE, ExternalSorter, join_sorted
from ml_connector.state.models import MappingState

S = TypeVar("S", bound=SageModel)
T = TypeVar("T")
U = TypeVar("U")
M = TypeVar("M", bound=BaseModel)

PAYABLE = frozenset({InvoiceStatus.RECEIVED, InvoiceStatus.IN_APPROVAL, InvoiceStatus.APPROVED})
PROGRESS_EVERY = 500


class Progress(Protocol):
    def __call__(self, phase: str, done: int) -> None:
        """``done`` records of ``phase`` read so far."""


def _no_progress(phase: str, done: int) -> None:
    return None


# -- projections: the fields compared, small enough to sort on disk --------------------------------------------------


class VendorView(Model):
    key: str
    name: str
    active: bool


class CodeView(Model):
    key: str
    """``GroupName/CodeValue``."""
    description: str
    active: bool


class InvoiceView(Model):
    """What an invoice is compared on, on either side."""

    key: str
    vendor: str
    number: str
    invoice_date: dt.date
    due_date: dt.date | None
    amount: Decimal


class SageInvoiceView(InvoiceView):
    balance: Decimal


class AvidInvoiceView(InvoiceView):
    id: str
    status: InvoiceStatus
    match_key: str = ""
    """The Sage key it is compared with: the connector's mapping to it, else its own vendor/number."""
    paid: Decimal = ZERO
    """Paid by payments due for posting (settled per the customer's ``settle_on``)."""
    payment_ids: list[str] = []


class MappingView(Model):
    source_key: str
    remote_id: str


class RemittanceView(Model):
    invoice_id: str
    payment_id: str
    amount: Decimal


class PaymentView(Model):
    payment_id: str
    number: str
    void: bool


class Sorters:
    """Makes the external sorters of one reconciliation (same run size and spill directory)."""

    def __init__(self, run_size: int, directory: Path | None) -> None:
        self.run_size, self.directory = run_size, directory

    def __call__(self, model: type[M], key: Callable[[M], str]) -> ExternalSorter[M]:
        return ExternalSorter(
            key,
            lambda record: record.model_dump_json(),
            model.model_validate_json,
            run_size=self.run_size,
            directory=self.directory,
        )


# -- comparisons: key-ordered streams in, drift out ------------------------------------------------------------------


V = TypeVar("V", VendorView, CodeView)


@dataclass(frozen=True)
class OneSided(Generic[V]):
    """Drift of a record active on one side only: its kind, what is seen, and what to do."""

    kind: DriftKind
    detail: Callable[[V], str]
    action: str


@dataclass(frozen=True)
class MasterRecords(Generic[V]):
    """A kind of record Sage 100 is the master of (vendors, GL codes), as a reconciliation compares and reports it."""

    noun: str
    view: type[V]
    compared: tuple[str, ...]
    missing_in_avid: OneSided[V]
    not_in_sage: OneSided[V]
    differs: DriftKind
    """Both sides hold it with different ``compared`` fields (the detail lists them)."""
    differs_action: str


VENDORS = MasterRecords[VendorView](
    "vendor",
    VendorView,
    ("name", "active"),
    missing_in_avid=OneSided(
        DriftKind.VENDOR_MISSING_IN_AVID,
        lambda vendor: f"active in Sage 100 as {vendor.name!r}, not in AvidXchange",
        "run the vendors stage (`mlc run {customer} vendors`); if it stays missing, see `mlc failures {customer}`",
    ),
    not_in_sage=OneSided(
        DriftKind.VENDOR_NOT_IN_SAGE,
        lambda vendor: f"active in AvidXchange as {vendor.name!r}, no such vendor in Sage 100",
        "deactivate it in AvidXchange, or enter the vendor in Sage 100",
    ),
    differs=DriftKind.VENDOR_DIFFERS,
    differs_action="Sage 100 is the master: save the vendor in Sage 100 so the vendors stage sends it again (edits "
    "made in AvidXchange are overwritten)",
)
CODES = MasterRecords[CodeView](
    "code",
    CodeView,
    ("description", "active"),
    missing_in_avid=OneSided(
        DriftKind.CODE_MISSING_IN_AVID,
        lambda _: "active in Sage 100, not in AvidXchange",
        "run the gl stage (`mlc run {customer} gl`); if it stays missing, see `mlc failures {customer}`",
    ),
    not_in_sage=OneSided(
        DriftKind.CODE_NOT_IN_SAGE,
        lambda _: "active in AvidXchange, no such GL account or segment value in Sage 100",
        "deactivate it in AvidXchange (invoices can still be coded to it), or add it in Sage 100",
    ),
    differs=DriftKind.CODE_DIFFERS,
    differs_action="save the account or segment value in Sage 100 so the gl stage sends it again",
)


def compare_masters(
    sage: Iterable[V], avid: Iterable[V], records: MasterRecords[V], drift: DriftCollector, sorters: Sorters
) -> None:
    with sorters(records.view, _key) as sage_sorted, sorters(records.view, _key) as avid_sorted:
        for key, ours, theirs in join_sorted(sage_sorted.add_all(sage), avid_sorted.add_all(avid), _key, _key):
            subject = f"{records.noun} {key}"
            if not theirs:
                _one_sided(ours[0], records.missing_in_avid, subject, drift)
            elif not ours:
                _one_sided(theirs[0], records.not_in_sage, subject, drift)
            else:
                differences = _differences(ours[0], theirs[0], *records.compared)
                if differences:
                    drift.add(records.differs, subject, differences, records.differs_action)


def _one_sided(record: V, drift_of: OneSided[V], subject: str, drift: DriftCollector) -> None:
    if record.active:
        drift.add(drift_of.kind, subject, drift_of.detail(record), drift_of.action)


def compare_invoices(
    sage: Iterable[SageInvoiceView],
    avid: Iterable[AvidInvoiceView],
    mappings: Iterable[MappingView],
    remittances: Iterable[RemittanceView],
    drift: DriftCollector,
    sorters: Sorters,
) -> None:
    """``avid``: every AvidXchange invoice in scope; ``mappings``: the connector's synced invoice mappings;
    ``remittances``: what settled, unvoided payments applied to each AvidXchange invoice."""
    with (
        sorters(AvidInvoiceView, _id) as avid_by_id,
        sorters(MappingView, _remote_id) as mappings_by_remote_id,
        sorters(MappingView, _source_key) as mappings_by_key,
        sorters(RemittanceView, _invoice_id) as remittances_by_invoice,
        sorters(AvidInvoiceView, _match_key) as avid_by_match_key,
        sorters(SageInvoiceView, _key) as sage_by_key,
    ):
        for mapping in mappings:
            mappings_by_remote_id.add(mapping)
            mappings_by_key.add(mapping)
        bridged = join_sorted(avid_by_id.add_all(avid), mappings_by_remote_id, _id, _remote_id)
        remittances_by_invoice.add_all(remittances)
        for _, joined, paid in join_sorted(bridged, remittances_by_invoice, _first, _invoice_id):
            for _, invoices, bridges in joined:
                for invoice in invoices:
                    avid_by_match_key.add(
                        invoice.model_copy(
                            update={
                                "match_key": bridges[0].source_key if bridges else invoice.key,
                                "paid": sum((r.amount for r in paid), ZERO),
                                "payment_ids": [r.payment_id for r in paid],
                            }
                        )
                    )
        sage_with_mappings = join_sorted(sage_by_key.add_all(sage), mappings_by_key, _key, _source_key)
        for key, sage_side, theirs in join_sorted(sage_with_mappings, avid_by_match_key, _first, _match_key):
            ours, mapped = (sage_side[0][1], sage_side[0][2]) if sage_side else ([], [])
            _compare_invoice(key, ours[0] if ours else None, mapped[0] if mapped else None, theirs, drift)


def _compare_invoice(
    key: str,
    ours: SageInvoiceView | None,
    mapped: MappingView | None,
    theirs: list[AvidInvoiceView],
    drift: DriftCollector,
) -> None:
    subject = f"invoice {key}"
    live = [invoice for invoice in theirs if invoice.status is not InvoiceStatus.VOID]
    if ours is None:
        for invoice in live:
            if invoice.status in PAYABLE:
                drift.add(
                    DriftKind.INVOICE_NOT_OPEN_IN_SAGE,
                    subject,
                    f"{invoice.status} in AvidXchange as {invoice.id} for {invoice.amount}; not open in Sage 100 "
                    "(paid or removed there)",
                    f"void {invoice.id} in AvidXchange unless it is still owed, so it is not paid twice",
                    invoice.amount - invoice.paid,
                )
        return
    if not live:
        where = f"the connector created it as {mapped.remote_id}, which AvidXchange " if mapped else "AvidXchange "
        has = "has only voided copies" if theirs else "does not have it"
        drift.add(
            DriftKind.INVOICE_MISSING_IN_AVID,
            subject,
            f"open in Sage 100 for {ours.amount} (balance {ours.balance}); {where}{has}",
            "enter it in AvidXchange by hand, or close it in Sage 100"
            if mapped
            else "run the invoices stage (`mlc run {customer} invoices`); if it stays missing: "
            f"`mlc audit {{customer}} invoice {key}`",
            ours.amount,
        )
        return
    chosen = next((i for i in live if mapped is not None and i.id == mapped.remote_id), live[0])
    if len(live) > 1:
        others = [i for i in live if i is not chosen]
        drift.add(
            DriftKind.INVOICE_DUPLICATED_IN_AVID,
            subject,
            f"AvidXchange holds it {len(live)} times: {', '.join(i.id for i in live)}",
            f"void {', '.join(i.id for i in others)} in AvidXchange (keep {chosen.id})",
            sum((i.amount for i in others), ZERO),
        )
    _compare_pair(subject, ours, chosen, drift)


def _compare_pair(subject: str, ours: SageInvoiceView, theirs: AvidInvoiceView, drift: DriftCollector) -> None:
    if (ours.vendor, ours.number) != (theirs.vendor, theirs.number):
        drift.add(
            DriftKind.INVOICE_VENDOR_DIFFERS,
            subject,
            f"AvidXchange has {theirs.id} as vendor {theirs.vendor} number {theirs.number}",
            f"correct {theirs.id} in AvidXchange to vendor {ours.vendor} number {ours.number}: its payment could not"
            " be posted to Sage 100 otherwise",
        )
    if ours.amount != theirs.amount:
        drift.add(
            DriftKind.INVOICE_AMOUNT_DIFFERS,
            subject,
            f"{ours.amount} in Sage 100, {theirs.amount} in AvidXchange ({theirs.id}, {theirs.status})",
            "correct the side that is wrong (AvidConnect cannot update an invoice: edit it in AvidXchange)",
            abs(ours.amount - theirs.amount),
        )
    dates = _differences(ours, theirs, "invoice_date", "due_date")
    if dates:
        drift.add(
            DriftKind.INVOICE_DATE_DIFFERS,
            subject,
            dates,
            f"correct the dates of {theirs.id} in AvidXchange (or in Sage 100 if Sage is wrong)",
        )
    if ours.amount <= 0:
        return  # credit memos are not paid through AvidXchange
    left_to_pay = ours.amount - theirs.paid
    paid_by = f" by payment(s) {', '.join(theirs.payment_ids)}" if theirs.payment_ids else ""
    if ours.balance > left_to_pay:
        drift.add(
            DriftKind.PAYMENT_NOT_POSTED,
            subject,
            f"AvidXchange paid {theirs.paid}{paid_by}; Sage 100 still shows balance {ours.balance}",
            "run the payments stage (`mlc run {customer} payments`); if it stays open, see "
            "`mlc failures {customer}` and `mlc audit {customer} payment PAYMENT_ID` (a manual check recorded but not "
            "yet updated in Sage 100 shows here too)",
            ours.balance - left_to_pay,
        )
    elif ours.balance < left_to_pay:
        drift.add(
            DriftKind.BALANCE_DIFFERS,
            subject,
            f"Sage 100 balance {ours.balance}; AvidXchange has {left_to_pay} left to pay{paid_by}",
            f"it was paid or adjusted in Sage 100 outside AvidXchange: stop or adjust {theirs.id} in AvidXchange so "
            "it is not paid twice",
            left_to_pay - ours.balance,
        )


def compare_checks(
    payments: Iterable[PaymentView],
    mappings: Iterable[MappingView],
    avid: AvidConnect,
    agent: SageAgent,
    drift: DriftCollector,
    sorters: Sorters,
    *,
    on_verified: Callable[[], None],
) -> None:
    """Each manual check the connector posted must still have its AvidXchange payment (not voided) and still be in
    Sage. ``payments``: AvidXchange payments in the window; one outside it is read by its id."""
    with sorters(PaymentView, _payment_id) as by_id, sorters(MappingView, _source_key) as posted:
        for payment_id, seen, checks in join_sorted(
            by_id.add_all(payments), posted.add_all(mappings), _payment_id, _source_key
        ):
            if not checks:
                continue
            check = checks[0].remote_id
            subject = f"manual check {check}"
            payment = seen[0] if seen else _read_payment(avid, payment_id)
            if payment is None or payment.void:
                state = "voided" if payment else "no longer exists"
                drift.add(
                    DriftKind.CHECK_WITHOUT_PAYMENT,
                    subject,
                    f"posted for AvidXchange payment {payment_id}, which {state} in AvidXchange",
                    f"void manual check {check} in Sage 100 (the connector never reverses a posting)",
                )
                continue
            bank_code, _, check_no = check.partition("/")
            if agent.manual_check(bank_code, check_no) is None:
                drift.add(
                    DriftKind.CHECK_MISSING_IN_SAGE,
                    subject,
                    f"posted for AvidXchange payment {payment.number} ({payment_id}); Sage 100 has no such check",
                    f"record payment {payment.number} in Sage 100 by hand as check {check_no} (the connector "
                    "posts a payment only once)",
                )
            on_verified()


# -- reading the systems ---------------------------------------------------------------------------------------------


def reconcile_customer(
    customer: Customer,
    agent: SageAgent,
    avid: AvidConnect,
    state: StateStore,
    *,
    now: dt.datetime | None = None,
    progress: Progress = _no_progress,
    max_lines_per_kind: int = 200,
    run_size: int = DEFAULT_RUN_SIZE,
    spill_dir: Path | None = None,
) -> ReconciliationReport:
    """Compare one customer's Sage company, AvidXchange company and the connector's mappings. Reads only."""
    started = now or dt.datetime.now(dt.UTC)
    drift = DriftCollector(customer.customer_id, max_lines_per_kind)
    sorters = Sorters(run_size, spill_dir)
    sage_totals, avid_totals, connector = SageTotals(), AvidTotals(), ConnectorTotals()
    reader = _Reader(customer, agent, avid, state, progress, sage_totals, avid_totals, connector)

    compare_masters(reader.sage_vendors(), reader.avid_vendors(), VENDORS, drift, sorters)
    compare_masters(reader.sage_codes(), reader.avid_codes(), CODES, drift, sorters)
    with sorters(PaymentView, _payment_id) as payments, sorters(RemittanceView, _invoice_id) as remittances:
        for payment in reader.avid_payments(started):
            payments.add(_payment_view(payment))
            if is_due_for_posting(payment, customer.settle_on):
                avid_totals.settled_payments += 1
                avid_totals.settled_amount += payment.amount
                remittances.add_all(
                    RemittanceView(invoice_id=r.invoice_id, payment_id=payment.payment_id, amount=r.net + r.discount)
                    for r in payment.remittances
                )
        compare_invoices(
            reader.sage_invoices(),
            reader.avid_invoices(),
            reader.mappings(RecordKind.INVOICE, "invoice mappings"),
            remittances,
            drift,
            sorters,
        )

        def verified() -> None:
            connector.checks_verified += 1
            progress("manual checks", connector.checks_verified)

        compare_checks(
            payments,
            reader.mappings(RecordKind.PAYMENT, "payment mappings"),
            avid,
            agent,
            drift,
            sorters,
            on_verified=verified,
        )
    connector.vendor_mappings = sum(1 for _ in reader.mappings(RecordKind.VENDOR, "vendor mappings"))
    return ReconciliationReport(
        customer_id=customer.customer_id,
        started_at=started,
        finished_at=dt.datetime.now(dt.UTC) if now is None else now,
        invoice_start_date=customer.invoice_start_date,
        sage=sage_totals,
        avid=avid_totals,
        connector=connector,
        totals=drift.totals(),
        lines=drift.lines(),
    )


class _Reader:
    """The two systems and the mappings as projected streams, counting as it goes."""

    def __init__(
        self,
        customer: Customer,
        agent: SageAgent,
        avid: AvidConnect,
        state: StateStore,
        progress: Progress,
        sage: SageTotals,
        avid_totals: AvidTotals,
        connector: ConnectorTotals,
    ) -> None:
        self.customer, self.agent, self.avid, self.state = customer, agent, avid, state
        self.progress = progress
        self.sage, self.avid_totals, self.connector = sage, avid_totals, connector

    def _counted(self, records: Iterable[M], phase: str) -> Iterator[M]:
        done = 0
        for done, record in enumerate(records, 1):
            if done % PROGRESS_EVERY == 0:
                self.progress(phase, done)
            yield record
        self.progress(phase, done)

    def sage_vendors(self) -> Iterator[VendorView]:
        pages = page_items(lambda cursor: self.agent.vendors_page(updated_since=None, cursor=cursor))
        for vendor in self._counted(pages, "Sage vendors"):
            self.sage.vendors += 1
            yield _vendor_view(vendor)

    def avid_vendors(self) -> Iterator[VendorView]:
        for vendor in self._counted(self.avid.iter_vendors(), "AvidXchange vendors"):
            self.avid_totals.vendors += 1
            yield VendorView(key=vendor.external_vendor_code, name=vendor.name, active=vendor.active)

    def _synced_segments(self) -> list[GLSegment]:
        """The customer's cost-center and extra segments that the Sage company has."""
        by_no = {segment.segment_no: segment for segment in self.agent.gl_segments()}
        return [by_no[n] for n in (self.customer.cost_center_segment, *self.customer.extra_segments) if n in by_no]

    def sage_codes(self) -> Iterator[CodeView]:
        for segment in self._synced_segments():
            group = segment_group_name(segment)
            values = page_items(functools.partial(self._segment_values_page, segment.segment_no))
            for value in self._counted(values, f"Sage {group} values"):
                self.sage.codes += 1
                yield _code_view(segment_value_code(value, group))
        accounts = page_items(lambda cursor: self.agent.gl_accounts_page(updated_since=None, cursor=cursor))
        for account in self._counted(accounts, "Sage GL accounts"):
            self.sage.codes += 1
            yield _code_view(account_code(account))

    def _segment_values_page(self, segment_no: int, cursor: str | None) -> Page[SegmentValue]:
        return self.agent.segment_values_page(segment_no=segment_no, updated_since=None, cursor=cursor)

    def avid_codes(self) -> Iterator[CodeView]:
        groups = {ACCOUNTING_CODES_GROUP} | {segment_group_name(segment) for segment in self._synced_segments()}
        for code in self._counted(self.avid.iter_enterprise_codes(), "AvidXchange codes"):
            if code.group_name in groups:
                self.avid_totals.codes += 1
                yield _code_view(code)

    def sage_invoices(self) -> Iterator[SageInvoiceView]:
        start = self.customer.invoice_start_date
        pages = page_items(
            lambda cursor: self.agent.open_invoices_page(updated_since=None, invoice_date_from=start, cursor=cursor)
        )
        for invoice in self._counted(pages, "Sage open invoices"):
            if invoice.invoice_date < start:
                continue
            self.sage.open_invoices += 1
            self.sage.invoice_amount += invoice.invoice_amt
            self.sage.open_balance += invoice.balance
            yield _sage_invoice_view(invoice)

    def avid_invoices(self) -> Iterator[AvidInvoiceView]:
        for invoice in self._counted(self.avid.iter_invoices(), "AvidXchange invoices"):
            # Invoices the connector created are always in scope: the join reaches them through its mappings.
            if invoice.invoice_date < self.customer.invoice_start_date and invoice.status in PAYABLE:
                continue
            self.avid_totals.invoices += 1
            self.avid_totals.invoice_amount += invoice.gross_amount
            yield _avid_invoice_view(invoice)

    def avid_payments(self, until: dt.datetime) -> Iterator[AvidPayment]:
        start = dt.datetime.combine(self.customer.invoice_start_date, dt.time(), tzinfo=dt.UTC)
        return self._counted(self.avid.iter_payments(modified_from=start, modified_to=until), "AvidXchange payments")

    def mappings(self, kind: str, phase: str) -> Iterator[MappingView]:
        for mapping in self._counted(self.state.iter_mappings(self.customer.customer_id, kind), phase):
            if mapping.state is MappingState.SYNCED and mapping.remote_id:
                if kind == RecordKind.INVOICE:
                    self.connector.invoice_mappings += 1
                elif kind == RecordKind.PAYMENT:
                    self.connector.payment_mappings += 1
                yield MappingView(source_key=mapping.source_key, remote_id=mapping.remote_id)


def page_items(fetch: Callable[[str | None], Page[S]]) -> Iterator[S]:
    """Every item of an agent list endpoint, page by page (``fetch`` takes the cursor)."""
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _vendor_view(vendor: SageVendor) -> VendorView:
    expected = to_avid_vendor(vendor)
    return VendorView(key=vendor.key, name=expected.name, active=expected.active)


def _code_view(code: EnterpriseCode | EnterpriseCodeRecord) -> CodeView:
    return CodeView(key=code.key, description=code.description, active=code.is_active)


def _sage_invoice_view(invoice: OpenInvoice) -> SageInvoiceView:
    return SageInvoiceView(
        key=invoice.key,
        vendor=invoice.vendor_key,
        number=invoice.invoice_no,
        invoice_date=invoice.invoice_date,
        due_date=invoice.invoice_due_date,
        amount=invoice.invoice_amt,
        balance=invoice.balance,
    )


def _avid_invoice_view(invoice: AvidInvoice) -> AvidInvoiceView:
    return AvidInvoiceView(
        id=invoice.id,
        key=invoice.key,
        vendor=invoice.vendor_external_code,
        number=invoice.number,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        amount=invoice.gross_amount,
        status=invoice.status,
    )


def _payment_view(payment: AvidPayment) -> PaymentView:
    return PaymentView(
        payment_id=payment.payment_id, number=payment.number, void=payment.status.description is PaymentStatus.VOID
    )


def _read_payment(avid: AvidConnect, payment_id: str) -> PaymentView | None:
    """A payment outside the window, read by its id."""
    payment = avid.get_payment(payment_id)
    return None if payment is None else _payment_view(payment)


def _differences(ours: BaseModel, theirs: BaseModel, *fields: str) -> str:
    """``name 'A' in Sage 100, 'B' in AvidXchange; ...`` for each field that differs; empty when none does."""
    return "; ".join(
        f"{field} {_shown(getattr(ours, field))} in Sage 100, {_shown(getattr(theirs, field))} in AvidXchange"
        for field in fields
        if getattr(ours, field) != getattr(theirs, field)
    )


def _shown(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _first(joined: tuple[str, list[T], list[U]]) -> str:
    return joined[0]


# Sort and join keys of the projections.
_key = attrgetter("key")
_id = attrgetter("id")
_remote_id = attrgetter("remote_id")
_source_key = attrgetter("source_key")
_invoice_id = attrgetter("invoice_id")
_match_key = attrgetter("match_key")
_payment_id = attrgetter("payment_id")
