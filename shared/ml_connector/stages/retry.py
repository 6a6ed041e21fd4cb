"""Runs one failed (or waiting) record again. It either reaches a final state or raises, leaving the message on the
retry queue (SQS dead-letters it after the configured number of receives)."""

from __future__ import annotations

from collections.abc import Callable

from ml_connector.retries import RecordRetry
from ml_connector.stages.context import StageContext
from ml_connector.stages.gl import ACCOUNT_KIND, VALUE_KIND, retry_gl_record
from ml_connector.stages.invoices import KIND as INVOICE_KIND
from ml_connector.stages.invoices import retry_invoice
from ml_connector.stages.ledger import RecordLedger
from ml_connector.stages.payments import KIND as PAYMENT_KIND
from ml_connector.stages.payments import retry_payment
from ml_connector.stages.vendors import KIND as VENDOR_KIND
from ml_connector.stages.vendors import retry_vendor
from ml_connector.state.models import AuditEvent

RetryHandler = Callable[[StageContext, RecordLedger, RecordRetry], None]

RETRY_HANDLERS: dict[str, RetryHandler] = {
    VENDOR_KIND: retry_vendor,
    ACCOUNT_KIND: retry_gl_record,
    VALUE_KIND: retry_gl_record,
    INVOICE_KIND: retry_invoice,
    PAYMENT_KIND: retry_payment,
}


class RecordStillFailing(Exception):
    """The record failed again (or still waits); the message stays on the retry queue."""


def retry_record(ctx: StageContext, retry: RecordRetry, *, receive_count: int) -> None:
    handler = RETRY_HANDLERS.get(retry.kind)
    if handler is None:
        raise RecordStillFailing(f"{retry.kind} {retry.source_key}: no retry handler for records of kind {retry.kind}")
    ledger = RecordLedger(ctx, retry.stage, requeue=False)
    ledger.note(
        retry.kind, retry.source_key, f"retry attempt {receive_count}: {retry.reason}", event=AuditEvent.RETRIED
    )
    handler(ctx, ledger, retry)
    ledger.flush()
    if ledger.counts.failed or ledger.counts.waiting:
        raise RecordStillFailing("; ".join(ledger.errors) or f"{retry.kind} {retry.source_key} is still waiting")
