"""The per-stage FIFO work queues (SQS): one message group per customer, so one run per customer and stage."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from ml_connector.stage import Stage
from ml_connector.work import WorkOrder

_SQS_BATCH = 10


class WorkQueueSendError(Exception):
    def __init__(self, failures: list[str]) -> None:
        super().__init__("could not queue: " + "; ".join(failures))
        self.failures = failures


class SqsWorkQueue:
    def __init__(self, sqs: Any, queue_url_for: Callable[[Stage], str]) -> None:
        self._sqs = sqs
        self._queue_url_for = queue_url_for

    def send(self, orders: Sequence[WorkOrder]) -> None:
        by_queue: dict[str, list[WorkOrder]] = defaultdict(list)
        for order in orders:
            by_queue[self._queue_url_for(order.stage)].append(order)
        failures: list[str] = []
        for queue_url, queued in by_queue.items():
            for start in range(0, len(queued), _SQS_BATCH):
                batch = queued[start : start + _SQS_BATCH]
                response = self._sqs.send_message_batch(
                    QueueUrl=queue_url,
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
                    failures.append(f"{order.customer_id}:{order.stage}: {failed.get('Message', failed['Code'])}")
        if failures:
            raise WorkQueueSendError(failures)
