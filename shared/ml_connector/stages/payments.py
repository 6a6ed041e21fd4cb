"""Payments stage: settled AvidXchange payments posted to Sage 100 as AP manual checks against the invoices they
paid, matched by vendor + invoice number. A payment's CheckNo is derived from it, so it can never be posted twice.

The stream is AvidXchange's payment list by LastModifiedDate (UTC), polled from ``watermark - overlap`` to the
pass's start, window by window (each window read whole: see ``AvidConnect.payment_windows``). After each window is
durable the pass's position moves to its end, so a continuation resumes there; a run that spends its time budget
mid-window stops between two payments and the continuation reads that window again (posted ones are unchanged).

Up to ``PAYMENTS_PER_CONNECTION`` payments per agent connection of a window post at once; two that paid the same
invoice take turns.
"""

from __future__ import annotations

import datetime as dt

from ml_connector import fault_points
from ml_connector.domain.avid import AvidPayment, PaymentStatus, PaymentWindow
from ml_connector.domain.payment_mapping import (
    derive_check_no,
    is_due_for_posting,
    records_payment,
    split_vendor_code,
    to_manual_check,
)
from ml_connector.domain.sage import ManualCheck, OpenInvoice, RecordedManualCheck
from ml_connector.errors import PaymentAlreadyExists, RecordRejected, RetryLater
from ml_connector.kinds import RecordKind, Stage
from ml_connector.messages import RecordRetry
from ml_connector.stages.context import StageContext
from ml_connector.stages.in_flight import KeyLocks, run_bounded
from ml_connector.stages.ledger import RecordLedger
from ml_connector.stages.result import StageResult
from ml_connector.state.models import AuditEvent, Cursor, KeyMapping, MappingState

STREAM = "payments"
PAYMENTS_PER_CONNECTION = 2
"""Payments in flight per agent connection: while one writes its state, another's call keeps the connection busy.
The agent still gets at most ``max_connections`` calls at once (the client's pool)."""


def post_payments(ctx: StageContext) -> StageResult:
    ledger = RecordLedger(ctx, Stage.PAYMENTS)
    cursor = _pass_cursor(ctx)
    since, until = cursor.pass_since, cursor.pass_started_at
    assert since is not None
    assert until is not None
    for window in ctx.avid.payment_windows(modified_from=since, modified_to=until):
        if not _post_window(ctx, ledger, window):
            ledger.flush()
            return ledger.result(False)
        ledger.flush()
        cursor = cursor.model_copy(update={"pass_since": window.modified_to, "updated_at": ctx.clock()})
        ctx.state.save_cursor(cursor)
    done = {"watermark": until, "pass_started_at": None, "pass_since": None, "updated_at": ctx.clock()}
    ctx.state.save_cursor(cursor.model_copy(update=done))
    return ledger.result(True)


def _pass_cursor(ctx: StageContext) -> Cursor:
    """The pass under way, or a new one from ``watermark - overlap`` to now (on the first run, see ``_first_since``)."""
    cursor = ctx.state.get_cursor(ctx.customer_id, STREAM)
    if cursor.in_pass:
        return cursor
    overlap = dt.timedelta(minutes=ctx.customer.overlap_minutes)
    now = ctx.clock().replace(microsecond=0)
    since = cursor.watermark - overlap if cursor.watermark is not None else _first_since(ctx, overlap, now)
    started = cursor.model_copy(update={"pass_started_at": now, "pass_since": since, "updated_at": ctx.clock()})
    ctx.state.save_cursor(started)
    return started


def _first_since(ctx: StageContext, overlap: dt.timedelta, now: dt.datetime) -> dt.datetime:
    """Where the first pass starts: the invoice start date, or, when the connector has pushed invoices, the earliest
    push (less the overlap, for the two systems' clocks) if that is later: a payment of a pushed invoice is modified
    after the push. Saves reading months of empty 30-day windows one by one."""
    first_day = dt.datetime.combine(ctx.customer.invoice_start_date, dt.time(), tzinfo=dt.UTC)
    earliest = min((o.pushed_at for o in ctx.state.list_outstanding(ctx.customer_id)), default=None)
    if earliest is None:
        return first_day
    return min(max(first_day, earliest - overlap), now)


def _post_window(ctx: StageContext, ledger: RecordLedger, window: PaymentWindow) -> bool:
    """Every payment of the window to a final state; False when the time budget ran out first."""
    for invalid in window.invalid:
        ledger.failed(
            RecordKind.PAYMENT,
            invalid.payment_id,
            f"payment {invalid.payment_id} breaks the AvidConnect contract ({invalid.errors}); nothing was posted."
            " Record it in Sage 100 by hand, or replay it once AvidXchange corrects it",
            retryable=False,
        )
    # One batch read for the window's mappings: a poll that meets only posted payments (the overlap) reads them
    # in one request per hundred. A mapping read stale is harmless: the CheckNo is derived, and Sage refuses it twice.
    posted = ctx.state.get_mappings(ctx.customer_id, RecordKind.PAYMENT, (p.payment_id for p in window.items))
    invoices = KeyLocks()  # two payments of one invoice post one after the other (its open balance moves with each)

    def post(payment: AvidPayment) -> None:
        try:
            keys = paid_invoice_keys(payment)
        except RecordRejected:  # a payee that is not ours: post_payment fails it alone, with the reason
            keys = []
        with invoices.holding(keys):
            post_payment(ctx, ledger, payment, posted.get(payment.payment_id))
        fault_points.reach("record.done")

    finished = run_bounded(
        window.items,
        post,
        limit=PAYMENTS_PER_CONNECTION * ctx.customer.agent.max_connections,
        go_on=lambda: not ctx.budget.exhausted(),
    )
    return len(finished) == len(window.items)


def post_payment(ctx: StageContext, ledger: RecordLedger, payment: AvidPayment, mapping: KeyMapping | None) -> None:
    key = payment.payment_id
    status = payment.status.description
    if status is PaymentStatus.VOID:
        _voided(ctx, ledger, payment, mapping)
        return
    if mapping is not None and mapping.state is MappingState.SYNCED:
        ledger.unchanged(RecordKind.PAYMENT, key)
        return
    if not is_due_for_posting(payment, ctx.customer.settle_on):
        ledger.skipped(
            RecordKind.PAYMENT, key, f"payment {payment.number} is {status}; posted once {ctx.customer.settle_on}"
        )
        return
    ledger.read(
        RecordKind.PAYMENT,
        key,
        f"payment {payment.number} {payment.amount} {status}, {payment.payment_method.description}",
    )
    try:
        recorded = ctx.agent.manual_check(ctx.customer.bank_code, derive_check_no(payment))
        if recorded is not None:
            _adopt(ctx, ledger, payment, recorded)
            return
        check = to_manual_check(payment, bank_code=ctx.customer.bank_code, open_invoices=_open_invoices(ctx, payment))
        detail = f"transformed into manual check {check.key} for {check.check_amount}"
        ledger.note(RecordKind.PAYMENT, key, detail, event=AuditEvent.TRANSFORMED)
        _post_once(ctx, ledger, payment, check)
    except RetryLater as error:
        ledger.failed(RecordKind.PAYMENT, key, str(error), retryable=True)
    except RecordRejected as error:
        ledger.failed(RecordKind.PAYMENT, key, str(error), retryable=False)


def paid_invoice_keys(payment: AvidPayment) -> list[str]:
    """The Sage keys of the invoices the payment paid, one per remittance, in order."""
    division, vendor_no = split_vendor_code(payment.payee_external_vendor_code)
    return [f"{division}-{vendor_no}/{r.invoice_number}" for r in payment.remittances]


def _open_invoices(ctx: StageContext, payment: AvidPayment) -> dict[str, OpenInvoice]:
    division, vendor_no = split_vendor_code(payment.payee_external_vendor_code)
    found = {}
    for remittance in payment.remittances:
        invoice = ctx.agent.open_invoice(division, vendor_no, remittance.invoice_number)
        if invoice is not None:
            found[remittance.invoice_number] = invoice
    return found


def _post_once(ctx: StageContext, ledger: RecordLedger, payment: AvidPayment, check: ManualCheck) -> None:
    try:
        result = ctx.agent.post_manual_check(check)
    except PaymentAlreadyExists as exists:  # posted meanwhile (a concurrent retry): the same check, or a clash
        _adopt(ctx, ledger, payment, exists.existing)
        return
    fault_points.reach("payment.posted")
    detail = f"posted as manual check {check.key} ({result.check_amt}, batch {result.batch_no or '-'})"
    _store(ctx, ledger, payment, check.key, detail)


def _adopt(ctx: StageContext, ledger: RecordLedger, payment: AvidPayment, recorded: RecordedManualCheck) -> None:
    """A check with this payment's CheckNo exists in Sage: it is this payment (a post whose answer was lost), or
    another payment's check clashing with the number, which a person must resolve."""
    if not records_payment(recorded, payment):
        raise RecordRejected(
            f"payment {payment.number}: check {recorded.key} already exists in Sage 100 for other invoices or another"
            f" vendor ({recorded.ap_division_no}-{recorded.vendor_no}); resolve it there, then replay"
        )
    _store(ctx, ledger, payment, recorded.key, f"already in Sage 100 as manual check {recorded.key}; adopted")


def _store(ctx: StageContext, ledger: RecordLedger, payment: AvidPayment, check_key: str, detail: str) -> None:
    """The mapping, the audit and what AvidXchange may still pay on the invoices, in one write."""
    paid = dict(zip(paid_invoice_keys(payment), (r.net + r.discount for r in payment.remittances), strict=True))
    outstanding = ctx.state.get_outstanding(ctx.customer_id, paid)
    still_open = [
        o.model_copy(update={"balance": o.balance - paid[key], "paid_by": [*o.paid_by, payment.payment_id]})
        for key, o in outstanding.items()
        if payment.payment_id not in o.paid_by
    ]
    ledger.synced(
        RecordKind.PAYMENT,
        payment.payment_id,
        mapping=KeyMapping(
            customer_id=ctx.customer_id,
            kind=RecordKind.PAYMENT,
            source_key=payment.payment_id,
            state=MappingState.SYNCED,
            remote_id=check_key,
            synced_at=ctx.clock(),
            details={"number": payment.number, "amount": str(payment.amount)},
        ),
        detail=detail,
        event=AuditEvent.POSTED,
        outstanding_puts=[o for o in still_open if o.balance > 0],
        outstanding_deletes=[o.source_key for o in still_open if o.balance <= 0],
    )


def _voided(ctx: StageContext, ledger: RecordLedger, payment: AvidPayment, mapping: KeyMapping | None) -> None:
    key = payment.payment_id
    if mapping is None or mapping.state is not MappingState.SYNCED:
        ledger.skipped(
            RecordKind.PAYMENT, key, f"payment {payment.number} was voided in AvidXchange before it was posted"
        )
        return
    if mapping.details.get("voided"):
        return  # flagged when first seen; the open failure stays until the AP team resolves it
    error = (
        f"payment {payment.number} was voided in AvidXchange after it was posted to Sage 100 as manual check"
        f" {mapping.remote_id}; void that check in Sage 100 (the connector never reverses postings)"
    )
    ledger.flagged(RecordKind.PAYMENT, key, error)
    flagged = mapping.model_copy(update={"details": {**mapping.details, "voided": True}})
    ledger.effect(
        RecordKind.PAYMENT, key, mapping=flagged, detail="flagged as voided after posting", event=AuditEvent.NOTED
    )


def retry_payment(ctx: StageContext, ledger: RecordLedger, retry: RecordRetry) -> None:
    """Read the payment again: it may have been voided or changed since it failed."""
    payment = ctx.avid.get_payment(retry.source_key)
    if payment is None:
        ledger.skipped(RecordKind.PAYMENT, retry.source_key, "the payment no longer exists in AvidXchange")
        return
    post_payment(ctx, ledger, payment, ctx.state.get_mapping(ctx.customer_id, RecordKind.PAYMENT, payment.payment_id))
