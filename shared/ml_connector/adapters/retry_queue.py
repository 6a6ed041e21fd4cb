"""The retry queue (SQS standard queue; its redrive policy dead-letters what keeps failing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ml_connector.messages import RecordRetry

_SQS_BATCH = 10


class RetryQueueSendError(Exception):
    pass


class SqsRetryQueue:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, retries: Sequence[RecordRetry]) -> None:
        for start in range(0, len(retries), _SQS_BATCH):
            batch = retries[start : start + _SQS_BATCH]
            response = self._sqs.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "MessageBody": retry.model_dump_json()} for i, retry in enumerate(batch)],
            )
            if response.get("Failed"):
                failed = [f"{batch[int(f['Id'])].kind} {batch[int(f['Id'])].source_key}" for f in response["Failed"]]
                raise RetryQueueSendError("could not queue for retry: " + ", ".join(failed))


class SqsRetryDelay:
    """Pushes a retry message's next delivery out by setting its visibility timeout."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def delay(self, receipt_handle: str, seconds: int) -> None:
        self._sqs.change_message_visibility(
            QueueUrl=self._queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )
