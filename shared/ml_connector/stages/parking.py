"""Parking: a paused customer's failed records wait as parked open failures instead of burning their retry
deliveries, and go back on the retry queue when the customer is healthy again."""

from __future__ import annotations

import datetime as dt

from ml_connector.messages import RecordRetry
from ml_connector.ports import RetryQueue, StateStore
from ml_connector.state.models import FailedRecord


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
