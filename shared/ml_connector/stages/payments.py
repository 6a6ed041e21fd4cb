"""Payments stage: settled AvidXchange payments posted to Sage 100 as AP manual checks against the invoices they
paid, matched by vendor + invoice number. A payment's CheckNo is derived from it, so it can never be posted twice.

The stream is AvidXchange's payment list by LastModifiedDate (UTC), polled from ``watermark - overlap`` to now.
"""

from __future__ import annotations

import datetime as dt

from ml_connector.domain.avid import AvidPayment, PaymentStatus
from ml_connector.domain.payment_mapping import (
    derive_check_no,
    is_due_for_posting,
    records_payment,
    split_vendor_code,
    to_manual_check,
)
from ml_connector.domain.sage import ManualCheck, OpenInvoice, RecordedManualCheck
from ml_connector.errors import PaymentAlreadyExists, RecordRejected, RetryLater
from ml_connector.retries import RecordRetry
from ml_connector.stage import Stage
from ml_connector.stages.context import StageContext
from ml_connector.stages.ledger import RecordLedger
from ml_connector.stages.result import StageResult
from ml_connector.state.models import AuditEvent, KeyMapping, MappingState

KIND = "payment"
STREAM = "payments"


def post_payments(ctx: StageContext) -> StageResult:
    ledger = RecordLedger(ctx, Stage.PAYMENTS)
    cursor = ctx.state.get_cursor(ctx.customer_id, STREAM)
    until = ctx.clock().replace(microsecond=0)
    overlap = dt.timedelta(minutes=ctx.customer.overlap_minutes)
    first_day = dt.datetime.combine(ctx.customer.invoice_start_date, dt.time(), tzinfo=dt.UTC)
    since = cursor.watermark - overlap if cursor.watermark is not None else first_day
    for payment in ctx.avid.iter_payments(modified_from=since, modified_to=until):
        post_payment(ctx, ledger, payment)
    ledger.flush()
    ctx.state.save_cursor(cursor.model_copy(update={"watermark": until, "updated_at": ctx.clock()}))
    return ledger.result(True)


def post_payment(ctx: StageContext, ledger: RecordLedger, payment: AvidPayment) -> None:
    key = payment.payment_id
    mapping = ctx.state.get_mapping(ctx.customer_id, KIND, key)
    status = payment.status.description
    if status is PaymentStatus.VOID:
        _voided(ctx, ledger, payment, mapping)
        return
    if mapping is not None and mapping.state is MappingState.SYNCED:
        ledger.unchanged(KIND, key)
        return
    if not is_due_for_posting(payment, ctx.customer.settle_on):
        ledger.skipped(KIND, key, f"payment {payment.number} is {status}; posted once {ctx.customer.settle_on}")
        return
    record = payment.model_dump(mode="json")
    ledger.read(KIND, key, f"payment {payment.number} {payment.amount} {status}, {payment.payment_method.description}")
    try:
        recorded = ctx.agent.manual_check(ctx.customer.bank_code, derive_check_no(payment))
        if recorded is not None:
            _adopt(ctx, ledger, payment, recorded)
            return
        check = to_manual_check(payment, bank_code=ctx.customer.bank_code, open_invoices=_open_invoices(ctx, payment))
        detail = f"transformed into manual check {check.key} for {check.check_amount}"
        ledger.note(KIND, key, detail, event=AuditEvent.TRANSFORMED)
        _post_once(ctx, ledger, payment, check)
    except RetryLater as error:
        ledger.failed(KIND, key, str(error), retryable=True, record=record)
    except RecordRejected as error:
        ledger.failed(KIND, key, str(error), retryable=False, record=record)


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
    ctx.state.put_mapping(
        KeyMapping(
            customer_id=ctx.customer_id,
            kind=KIND,
            source_key=payment.payment_id,
            state=MappingState.SYNCED,
            remote_id=check_key,
            synced_at=ctx.clock(),
            details={"number": payment.number, "amount": str(payment.amount)},
        )
    )
    ledger.synced(KIND, payment.payment_id, remote_id=check_key, detail=detail, event=AuditEvent.POSTED)


def _voided(ctx: StageContext, ledger: RecordLedger, payment: AvidPayment, mapping: KeyMapping | None) -> None:
    key = payment.payment_id
    if mapping is None or mapping.state is not MappingState.SYNCED:
        ledger.skipped(KIND, key, f"payment {payment.number} was voided in AvidXchange before it was posted")
        return
    if mapping.details.get("voided"):
        return  # flagged when first seen; the open failure stays until the AP team resolves it
    ledger.failed(
        KIND,
        key,
        f"payment {payment.number} was voided in AvidXchange after it was posted to Sage 100 as manual check"
        f" {mapping.remote_id}; void that check in Sage 100 (the connector never reverses postings)",
        retryable=False,
        requeue=False,
    )
    ctx.state.put_mapping(mapping.model_copy(update={"details": {**mapping.details, "voided": True}}))


def retry_payment(ctx: StageContext, ledger: RecordLedger, retry: RecordRetry) -> None:
    """Read the payment again: it may have been voided or changed since it failed."""
    payment = ctx.avid.get_payment(retry.source_key)
    if payment is None:
        ledger.skipped(KIND, retry.source_key, "the payment no longer exists in AvidXchange")
        return
    post_payment(ctx, ledger, payment)
