"""The connector's queue messages: work orders (one stage run for one customer), record retries and review orders."""

from __future__ import annotations

import datetime as dt

from pydantic import ConfigDict, Field

from ml_connector.kinds import Stage
from ml_connector.model import Model
from ml_connector.state.history import ReviewTask
from ml_connector.state.models import FailedRecord


class WorkOrder(Model):
    """Run ``stage`` for ``customer_id``; then queue ``then`` (the rest of the cycle, in order).

    ``continuation`` is set when a stage ran out of time and queued itself to go on where it stopped; its cursor
    is in the state table, so the message only says that this is a continuation and which one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str
    stage: Stage
    cycle_id: str = Field(min_length=1, max_length=64)
    then: tuple[Stage, ...] = ()
    continuation: int = Field(default=0, ge=0)

    @property
    def deduplication_id(self) -> str:
        return f"{self.customer_id}:{self.stage}:{self.cycle_id}:{self.continuation}"

    def continued(self) -> WorkOrder:
        return self.model_copy(update={"continuation": self.continuation + 1})

    def next_in_cycle(self) -> WorkOrder | None:
        if not self.then:
            return None
        return WorkOrder(customer_id=self.customer_id, stage=self.then[0], cycle_id=self.cycle_id, then=self.then[1:])


class RecordRetry(Model):
    """A record to run again, by its key only: the retry reads it again from its source, so a message carries no
    record data (no tax id, card or bank detail) and a replay of any age runs the record as it is now.
    Replays are keyed on (customer, kind, source key), never on the SQS message id or a time."""

    # Messages written before records travelled by key carry ``record``/``sealed_record``: read, then ignored.
    model_config = ConfigDict(frozen=True, extra="ignore")

    customer_id: str
    stage: Stage
    kind: str
    source_key: str
    reason: str
    first_failed_at: dt.datetime

    @classmethod
    def of(cls, failure: FailedRecord, *, reason: str, now: dt.datetime) -> RecordRetry:
        """A retry of an open failure, sent ``now``."""
        return cls(
            customer_id=failure.customer_id,
            stage=failure.stage,
            kind=failure.kind,
            source_key=failure.source_key,
            reason=reason,
            first_failed_at=now,
        )


class ReviewOrder(Model):
    """Run a review (a reconciliation or an onboarding preview) for ``customer_id``: the reconcile queue's message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str
    task: ReviewTask
    cycle_id: str = Field(min_length=1, max_length=64)

    @property
    def deduplication_id(self) -> str:
        return f"{self.customer_id}:{self.task}:{self.cycle_id}"
