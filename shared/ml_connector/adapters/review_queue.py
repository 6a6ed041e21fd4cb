"""The reconcile FIFO queue (SQS): review orders, one message group per customer, so one review per customer at a
time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ml_connector.adapters.work_queue import WorkQueueSendError
from ml_connector.reviews import ReviewOrder

_SQS_BATCH = 10


class ReviewQueueSettings(BaseModel):
    """The dispatcher's own environment variable (template.yaml)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    reconcile_queue_url: str = Field(alias="RECONCILE_QUEUE_URL", min_length=8)


class SqsReviewQueue:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, orders: Sequence[ReviewOrder]) -> None:
        failures: list[str] = []
        for start in range(0, len(orders), _SQS_BATCH):
            batch = orders[start : start + _SQS_BATCH]
            response = self._sqs.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {
                        "Id": str(i),
                        "MessageBody": order.model_dump_json(),
                        "MessageGroupId": order.customer_id,
                        "MessageDeduplicationId": order.deduplication_id,
                    }
                    for i, order in enumerate(batch)
                ],
            )
            for failed in response.get("Failed", []):
                order = batch[int(failed["Id"])]
                failures.append(f"{order.customer_id}:{order.task}: {failed.get('Message', failed['Code'])}")
        if failures:
            raise WorkQueueSendError(failures)
