"""Messages on the retry queue: one failed (or waiting) record, with what is needed to run it again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from ml_connector.stage import Stage
from ml_connector.state.models import FailedRecord


class RecordRetry(BaseModel):
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


class RetryQueue(Protocol):
    def send(self, retries: Sequence[RecordRetry]) -> None: ...
