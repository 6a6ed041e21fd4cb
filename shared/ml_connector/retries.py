"""Messages on the retry queue: one failed (or waiting) record, with what is needed to run it again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from ml_connector.stage import Stage


class RecordRetry(BaseModel):
    """``record`` holds the source record when it carries nothing sensitive; otherwise ``sealed_record`` holds it
    envelope-encrypted. Replays are keyed on (customer, kind, source key), never on the SQS message id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str
    stage: Stage
    kind: str
    source_key: str
    reason: str
    record: dict[str, Any] | None = None
    sealed_record: dict[str, str] | None = None
    first_failed_at: dt.datetime


class RetryQueue(Protocol):
    def send(self, retries: Sequence[RecordRetry]) -> None: ...
