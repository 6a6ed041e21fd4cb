"""How many failed records wait: in the retry queue (visible, in flight or delayed) and in the record DLQ.

SQS's own ApproximateNumberOfMessagesVisible misses most of the retry queue: a record waiting for its next try is
in flight (its visibility pushed out), so the dispatcher reads both queues' counts once a tick and reports them.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from ml_connector.model import Model
from ml_connector.ports import Backlog

_COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


class BacklogQueues(Model):
    """The dispatcher's environment (template.yaml): the retry queue from Globals, the record DLQ its own."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    retry_queue_url: str = Field(alias="RETRY_QUEUE_URL", min_length=8)
    record_dlq_url: str = Field(alias="RECORD_DLQ_URL", min_length=8)


class SqsBacklog:
    def __init__(self, sqs: Any, queues: BacklogQueues) -> None:
        self._sqs = sqs
        self._queues = queues

    def read(self) -> Backlog:
        return Backlog(
            retrying=self._count(self._queues.retry_queue_url), dead_lettered=self._count(self._queues.record_dlq_url)
        )

    def _count(self, queue_url: str) -> int:
        attributes = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=list(_COUNTS))["Attributes"]
        return sum(int(attributes.get(name, 0)) for name in _COUNTS)
