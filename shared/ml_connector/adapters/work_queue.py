"""The per-stage FIFO work queues (SQS): one message group per customer, so one run per customer and stage."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from ml_connector.kinds import Stage
from ml_connector.messages import WorkOrder

_SQS_BATCH = 10


class WorkQueueSendError(Exception):
    def __init__(self, failures: list[str]) -> None:
        super().__init__("could not queue: " + "; ".join(failures))
        self.failures = failures


class FifoOrder(Protocol):
    """What goes on a FIFO queue: a body, the customer as message group, a deduplication id."""

    @property
    def customer_id(self) -> str: ...

    @property
    def deduplication_id(self) -> str: ...

    def model_dump_json(self) -> str: ...


Order = TypeVar("Order", bound=FifoOrder)


def send_fifo(sqs: Any, queue_url: str, orders: Sequence[Order], label: Callable[[Order], str]) -> list[str]:
    """Send in batches of 10, one message group per customer; returns what could not be sent, labelled."""
    failures: list[str] = []
    for start in range(0, len(orders), _SQS_BATCH):
        batch = orders[start : start + _SQS_BATCH]
        response = sqs.send_message_batch(
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
            failures.append(f"{label(batch[int(failed['Id'])])}: {failed.get('Message', failed['Code'])}")
    return failures


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
            failures += send_fifo(self._sqs, queue_url, queued, lambda order: f"{order.customer_id}:{order.stage}")
        if failures:
            raise WorkQueueSendError(failures)
