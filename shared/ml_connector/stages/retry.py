"""Runs one failed record again, read afresh from its source by key. It reaches a final state (synced, unchanged,
skipped, waiting, refused: all audited, the last two listed as open failures) or, when it failed for a passing
reason again, raises: the message stays on the retry queue (SQS dead-letters it after the configured receives)."""

from __future__ import annotations

import datetime as dt

from ml_connector.kinds import RecordKind
from ml_connector.messages import RecordRetry
from ml_connector.ports import RetryQueue, StateStore
from ml_connector.stages.context import StageContext
from ml_connector.stages.gl import retry_gl_record
from ml_connector.stages.invoices import retry_invoice
from ml_connector.stages.ledger import RecordLedger
from ml_connector.stages.payments import retry_payment
from ml_connector.stages.vendors import retry_vendor
from ml_connector.state.models import AuditEvent, FailedRecord

# A failed record's next delivery waits 2, 6, 18, 54, ... minutes (capped at SQS's 12 hours).
FIRST_DELAY_SECONDS = 120
DELAY_FACTOR = 3
MAX_DELAY_SECONDS = 12 * 60 * 60


class RecordStillFailing(Exception):
    """The record failed again for a passing reason; the message stays on the retry queue."""


def retry_record(ctx: StageContext, retry: RecordRetry, *, receive_count: int) -> None:
    ledger = RecordLedger(ctx, retry.stage, requeue=False)
    ledger.note(
        retry.kind, retry.source_key, f"retry attempt {receive_count}: {retry.reason}", event=AuditEvent.RETRIED
    )
    match retry.kind:
        case RecordKind.VENDOR:
            retry_vendor(ctx, ledger, retry)
        case RecordKind.GL_ACCOUNT | RecordKind.SEGMENT_VALUE:
            retry_gl_record(ctx, ledger, retry)
        case RecordKind.INVOICE:
            retry_invoice(ctx, ledger, retry)
        case RecordKind.PAYMENT:
            retry_payment(ctx, ledger, retry)
    ledger.flush()
    if ledger.retryable_failures:
        raise RecordStillFailing("; ".join(ledger.errors))


def next_delivery_delay(receive_count: int) -> int:
    """Seconds until a record that failed on its ``receive_count``-th delivery is delivered again."""
    delay: int = FIRST_DELAY_SECONDS * DELAY_FACTOR ** max(0, receive_count - 1)
    return min(delay, MAX_DELAY_SECONDS)


def park(state: StateStore, retry: RecordRetry) -> None:
    """The customer is paused (agent offline, tokens rejected): keep the record as a parked open failure instead of
    burning its deliveries; it is queued again when the customer is healthy (``requeue_parked``)."""
    state.record_failure(
        FailedRecord(
            customer_id=retry.customer_id,
            kind=retry.kind,
            source_key=retry.source_key,
            stage=retry.stage,
            error=f"parked while the customer is paused: {retry.reason}",
            retryable=True,
            attempts=1,
            first_failed_at=retry.first_failed_at,
            last_failed_at=retry.first_failed_at,
            parked=True,
        )
    )


def requeue_parked(state: StateStore, retries: RetryQueue, customer_id: str, now: dt.datetime) -> int:
    """Queue the customer's parked records again (it is healthy again). Returns how many."""
    parked = [f for f in state.list_failures(customer_id) if f.parked]
    retries.send([RecordRetry.of(f, reason=f.error, now=now) for f in parked])
    for failure in parked:
        state.set_parked(customer_id, failure.kind, failure.source_key, parked=False)
    return len(parked)
