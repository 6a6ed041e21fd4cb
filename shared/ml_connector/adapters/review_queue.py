"""The reconcile FIFO queue (SQS): review orders, one message group per customer, so one review per customer at a
time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ConfigDict, Field

from ml_connector.adapters.work_queue import WorkQueueSendError, send_fifo
from ml_connector.messages import ReviewOrder
from ml_connector.model import Model


class ReviewQueueSettings(Model):
    """The dispatcher's own environment variable (template.yaml)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    reconcile_queue_url: str = Field(alias="RECONCILE_QUEUE_URL", min_length=8)


class SqsReviewQueue:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, orders: Sequence[ReviewOrder]) -> None:
        failures = send_fifo(self._sqs, self._queue_url, orders, lambda order: f"{order.customer_id}:{order.task}")
        if failures:
            raise WorkQueueSendError(failures)
