"""What a reconciliation found: each kind of drift with its count and money, capped example lines, and both sides'
totals. Built by ``ml_connector.reconcile``; printed by ``mlc reconcile`` and drawn on the status page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from ml_connector.model import Model

ZERO = Decimal("0.00")


class DriftKind(StrEnum):
    VENDOR_MISSING_IN_AVID = "vendor_missing_in_avid"
    VENDOR_NOT_IN_SAGE = "vendor_not_in_sage"
    VENDOR_DIFFERS = "vendor_differs"
    CODE_MISSING_IN_AVID = "code_missing_in_avid"
    CODE_NOT_IN_SAGE = "code_not_in_sage"
    CODE_DIFFERS = "code_differs"
    INVOICE_MISSING_IN_AVID = "invoice_missing_in_avid"
    INVOICE_NOT_OPEN_IN_SAGE = "invoice_not_open_in_sage"
    INVOICE_DUPLICATED_IN_AVID = "invoice_duplicated_in_avid"
    INVOICE_AMOUNT_DIFFERS = "invoice_amount_differs"
    INVOICE_DATE_DIFFERS = "invoice_date_differs"
    INVOICE_VENDOR_DIFFERS = "invoice_vendor_differs"
    PAYMENT_NOT_POSTED = "payment_not_posted"
    BALANCE_DIFFERS = "balance_differs"
    CHECK_WITHOUT_PAYMENT = "check_without_payment"
    CHECK_MISSING_IN_SAGE = "check_missing_in_sage"

    @property
    def label(self) -> str:
        return _TITLES[self]


_TITLES = {
    DriftKind.VENDOR_MISSING_IN_AVID: "active Sage vendors missing in AvidXchange",
    DriftKind.VENDOR_NOT_IN_SAGE: "active AvidXchange vendors with no Sage vendor",
    DriftKind.VENDOR_DIFFERS: "vendors whose name or active flag differ",
    DriftKind.CODE_MISSING_IN_AVID: "active GL codes missing in AvidXchange",
    DriftKind.CODE_NOT_IN_SAGE: "active AvidXchange codes with no Sage account or segment value",
    DriftKind.CODE_DIFFERS: "codes whose description or active flag differ",
    DriftKind.INVOICE_MISSING_IN_AVID: "open Sage invoices in scope missing in AvidXchange",
    DriftKind.INVOICE_NOT_OPEN_IN_SAGE: "payable AvidXchange invoices with no open Sage invoice",
    DriftKind.INVOICE_DUPLICATED_IN_AVID: "invoices AvidXchange holds more than once",
    DriftKind.INVOICE_AMOUNT_DIFFERS: "invoices whose amount differs",
    DriftKind.INVOICE_DATE_DIFFERS: "invoices whose invoice or due date differs",
    DriftKind.INVOICE_VENDOR_DIFFERS: "invoices whose vendor or number differs",
    DriftKind.PAYMENT_NOT_POSTED: "invoices paid in AvidXchange and still open in Sage",
    DriftKind.BALANCE_DIFFERS: "invoices whose Sage open balance is below what AvidXchange has left to pay",
    DriftKind.CHECK_WITHOUT_PAYMENT: "manual checks posted by the connector whose AvidXchange payment is void or gone",
    DriftKind.CHECK_MISSING_IN_SAGE: "payments posted by the connector whose manual check is gone from Sage",
}


class DriftLine(Model):
    kind: DriftKind
    subject: str
    """The record, e.g. ``invoice 01-ACME/10045``."""
    detail: str
    """What each side says."""
    action: str
    """What to do about it."""
    amount: Decimal | None = None
    """The money at stake, when there is any."""


class DriftTotal(Model):
    kind: DriftKind
    count: int = 0
    amount: Decimal = ZERO
    lines_omitted: int = 0
    """Lines of this kind not kept in ``ReconciliationReport.lines`` (the count and amount include them)."""


class SageTotals(Model):
    vendors: int = 0
    codes: int = 0
    open_invoices: int = 0
    """Open invoices dated on or after the customer's invoice start date."""
    invoice_amount: Decimal = ZERO
    open_balance: Decimal = ZERO


class AvidTotals(Model):
    vendors: int = 0
    codes: int = 0
    """Codes in the groups the connector maintains (Accounting Codes and the synced GL segments)."""
    invoices: int = 0
    """Invoices dated on or after the invoice start date, or created by the connector."""
    invoice_amount: Decimal = ZERO
    settled_payments: int = 0
    """Payments due for posting under the customer's ``settle_on``, modified since the invoice start date."""
    settled_amount: Decimal = ZERO


class ConnectorTotals(Model):
    vendor_mappings: int = 0
    invoice_mappings: int = 0
    payment_mappings: int = 0
    checks_verified: int = 0
    """Manual checks the connector posted that were read back from Sage by their key."""


class ReconciliationSummary(Model):
    """The few figures kept after a run (for ``mlc status`` and a drift alarm)."""

    customer_id: str
    finished_at: dt.datetime
    in_agreement: bool
    drift_count: int
    drift_amount: Decimal
    by_kind: dict[DriftKind, int]


class ReconciliationReport(Model):
    customer_id: str
    started_at: dt.datetime
    finished_at: dt.datetime
    invoice_start_date: dt.date
    sage: SageTotals
    avid: AvidTotals
    connector: ConnectorTotals
    totals: list[DriftTotal] = Field(description="One per kind of drift, in DriftKind order, zero counts included.")
    lines: list[DriftLine]

    @property
    def drift_count(self) -> int:
        return sum(t.count for t in self.totals)

    @property
    def in_agreement(self) -> bool:
        return self.drift_count == 0

    def summary(self) -> ReconciliationSummary:
        return ReconciliationSummary(
            customer_id=self.customer_id,
            finished_at=self.finished_at,
            in_agreement=self.in_agreement,
            drift_count=self.drift_count,
            drift_amount=sum((t.amount for t in self.totals), ZERO),
            by_kind={t.kind: t.count for t in self.totals if t.count},
        )


class DriftCollector:
    """Counts every drift and its money; keeps at most ``max_lines_per_kind`` lines of each kind. ``{customer}`` in
    an action becomes the customer id (actions name the commands to run)."""

    def __init__(self, customer_id: str, max_lines_per_kind: int) -> None:
        self._customer_id = customer_id
        self._max = max_lines_per_kind
        self._totals = {kind: DriftTotal(kind=kind) for kind in DriftKind}
        self._lines: list[DriftLine] = []

    def add(self, kind: DriftKind, subject: str, detail: str, action: str, amount: Decimal | None = None) -> None:
        total = self._totals[kind]
        total.count += 1
        total.amount += abs(amount) if amount is not None else ZERO
        if total.count - total.lines_omitted > self._max:
            total.lines_omitted += 1
            return
        action = action.replace("{customer}", self._customer_id)
        self._lines.append(DriftLine(kind=kind, subject=subject, detail=detail, action=action, amount=amount))

    def totals(self) -> list[DriftTotal]:
        return list(self._totals.values())

    def lines(self) -> list[DriftLine]:
        order = list(DriftKind)
        return sorted(self._lines, key=lambda line: (order.index(line.kind), line.subject))
