"""Runs one failed record again, read afresh from its source by key. It reaches a final state (synced, unchanged,
skipped, waiting, refused: all audited, the last two listed as open failures) or, when it failed for a passing
reason again, raises: the message stays on the retry queue (SQS dead-letters it after the configured receives)."""

from __future__ import annotations

from ml_connector.kinds import RecordKind
from ml_connector.messages import RecordRetry
from ml_connector.stages.context import StageContext
from ml_connector.stages.gl import retry_gl_record
from ml_connector.stages.invoices import retry_invoice
from ml_connector.stages.ledger import RecordLedger
from ml_connector.stages.payments import retry_payment
from ml_connector.stages.vendors import retry_vendor
from ml_connector.state.models import AuditEvent

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
