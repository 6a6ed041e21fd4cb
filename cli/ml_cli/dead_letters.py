"""The record DLQ: look at it without consuming it, and move its messages back to the retry queue.

Messages are received with a visibility timeout long enough for one pass; the ones not moved are made visible again
(visibility 0) when the pass ends, so other readers see them at once. A pass ends at the first empty receive: every
message seen is either deleted (moved) or still hidden, so none is received twice in one pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from ml_connector.messages import RecordRetry
from ml_connector.state.models import FailedRecord

_SQS_BATCH = 10
PASS_VISIBILITY_SECONDS = 120
# How long the record DLQ keeps a message (template.yaml: RecordDeadLetterQueue MessageRetentionPeriod).
DLQ_RETENTION = dt.timedelta(days=14)
# How SQS or moto say that StartMessageMoveTask is not available; moto answers an unimplemented action with a bare
# HTTP 500, which botocore reports with the status code as the error code.
_MOVE_TASK_UNSUPPORTED = frozenset({"UnsupportedOperation", "InvalidAction", "NotImplemented"})


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: str
    retry: RecordRetry | None
    """The body as a RecordRetry; None if it is not one (it is then never moved selectively)."""
    receive_count: int
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class ReplaySelection:
    """Which dead letters to move back: everything (no fields set), one customer's, or one record's."""

    customer_id: str | None = None
    kind: str | None = None
    source_key: str | None = None

    @property
    def everything(self) -> bool:
        return self.customer_id is None and self.kind is None and self.source_key is None

    def matches(self, retry: RecordRetry | None) -> bool:
        if self.everything:
            return True
        if retry is None:
            return False
        return self.matches_record(retry.customer_id, retry.kind, retry.source_key)

    def matches_record(self, customer_id: str, kind: str, source_key: str) -> bool:
        return all(
            wanted is None or wanted == actual
            for wanted, actual in (
                (self.customer_id, customer_id),
                (self.kind, kind),
                (self.source_key, source_key),
            )
        )


@dataclass
class ReplayOutcome:
    moved: int = 0
    """Messages moved back; for a move task, the DLQ's approximate depth when the task started."""
    left_in_dlq: int = 0
    """Messages seen and left in the DLQ because they did not match."""
    move_task_handle: str | None = None
    replayed: list[RecordRetry] = field(default_factory=list)
    """The records moved, when they were moved one by one (a move task does not say)."""
    failed: list[str] = field(default_factory=list)
    """What went wrong with single messages (not sent back, or sent back but not deleted from the DLQ)."""


def _parse(body: str) -> RecordRetry | None:
    try:
        return RecordRetry.model_validate_json(body)
    except ValidationError:
        return None


def _dead_letter(message: dict[str, Any]) -> DeadLetter:
    attributes = message.get("Attributes", {})
    sent = attributes.get("SentTimestamp")
    return DeadLetter(
        message_id=message["MessageId"],
        body=message["Body"],
        retry=_parse(message["Body"]),
        receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
        sent_at=dt.datetime.fromtimestamp(int(sent) / 1000, dt.UTC) if sent else None,
    )


def _receive_pass(sqs: Any, queue_url: str, wait_seconds: int) -> Iterator[list[dict[str, Any]]]:
    while True:
        messages: list[dict[str, Any]] = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=_SQS_BATCH,
            VisibilityTimeout=PASS_VISIBILITY_SECONDS,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
        ).get("Messages", [])
        if not messages:
            return
        yield messages


def _release(sqs: Any, queue_url: str, receipt_handles: Sequence[str]) -> None:
    for start in range(0, len(receipt_handles), _SQS_BATCH):
        chunk = receipt_handles[start : start + _SQS_BATCH]
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0} for i, handle in enumerate(chunk)],
        )


def peek_dead_letters(sqs: Any, queue_url: str, *, wait_seconds: int = 1) -> list[DeadLetter]:
    """Every message in the queue, none consumed."""
    seen: list[DeadLetter] = []
    handles: list[str] = []
    try:
        for messages in _receive_pass(sqs, queue_url, wait_seconds):
            seen.extend(_dead_letter(m) for m in messages)
            handles.extend(m["ReceiptHandle"] for m in messages)
    finally:
        _release(sqs, queue_url, handles)
    return seen


def _move_task_unsupported(error: ClientError) -> bool:
    details = error.response.get("Error", {})
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return details.get("Code") in _MOVE_TASK_UNSUPPORTED or (details.get("Code") == "500" and status == 500)


def _queue_attributes(sqs: Any, queue_url: str) -> dict[str, str]:
    attributes: dict[str, str] = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn", "ApproximateNumberOfMessages"]
    )["Attributes"]
    return attributes


def _start_move_task(sqs: Any, dlq_url: str, target_url: str) -> ReplayOutcome:
    source = _queue_attributes(sqs, dlq_url)
    target = _queue_attributes(sqs, target_url)
    task = sqs.start_message_move_task(SourceArn=source["QueueArn"], DestinationArn=target["QueueArn"])
    return ReplayOutcome(moved=int(source.get("ApproximateNumberOfMessages", 0)), move_task_handle=task["TaskHandle"])


def _send_back(
    sqs: Any, dlq_url: str, target_url: str, chosen: list[dict[str, Any]], outcome: ReplayOutcome
) -> list[str]:
    """Send ``chosen`` to the target, delete what was sent from the DLQ; returns the receipt handles not sent."""
    sent = sqs.send_message_batch(
        QueueUrl=target_url, Entries=[{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(chosen)]
    )
    not_sent = {int(f["Id"]) for f in sent.get("Failed", [])}
    moved = [m for i, m in enumerate(chosen) if i not in not_sent]
    outcome.failed += [f"{chosen[i]['MessageId']}: not sent to the retry queue, left in the DLQ" for i in not_sent]
    if moved:
        deleted = sqs.delete_message_batch(
            QueueUrl=dlq_url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(moved)]
        )
        outcome.failed += [
            f"{moved[int(f['Id'])]['MessageId']}: sent back but still in the DLQ (replaying it again is harmless)"
            for f in deleted.get("Failed", [])
        ]
    outcome.moved += len(moved)
    outcome.replayed += [r for r in (_parse(m["Body"]) for m in moved) if r is not None]
    return [chosen[i]["ReceiptHandle"] for i in sorted(not_sent)]


def _move_matching(
    sqs: Any, dlq_url: str, target_url: str, selection: ReplaySelection, wait_seconds: int
) -> ReplayOutcome:
    outcome = ReplayOutcome()
    release: list[str] = []
    try:
        for messages in _receive_pass(sqs, dlq_url, wait_seconds):
            chosen = [m for m in messages if selection.matches(_parse(m["Body"]))]
            unmatched = [m["ReceiptHandle"] for m in messages if m not in chosen]
            outcome.left_in_dlq += len(unmatched)
            release += unmatched
            if chosen:
                release += _send_back(sqs, dlq_url, target_url, chosen, outcome)
    finally:
        _release(sqs, dlq_url, release)
    return outcome


def replay_dead_letters(
    sqs: Any, *, dlq_url: str, target_url: str, selection: ReplaySelection, wait_seconds: int = 1
) -> ReplayOutcome:
    """Move the selected messages from ``dlq_url`` back to ``target_url``.

    Everything: SQS's own redrive (StartMessageMoveTask), falling back to moving messages one by one where that call
    is not available (moto). A selection: always one by one, sending back only the matching messages.
    """
    if selection.everything:
        try:
            return _start_move_task(sqs, dlq_url, target_url)
        except ClientError as error:
            if not _move_task_unsupported(error):
                raise
    return _move_matching(sqs, dlq_url, target_url, selection, wait_seconds)


def stranded_failures(
    failures: Sequence[FailedRecord], selection: ReplaySelection, *, moved: Sequence[RecordRetry], now: dt.datetime
) -> list[FailedRecord]:
    """The selected open failures that no queue holds a message for, so only a fresh retry can run them again: refusals
    and flags (never queued), and passing failures older than the DLQ keeps messages. Waiting records release
    themselves and parked ones go back when their customer recovers: neither is replayed."""
    already = {(r.customer_id, r.kind, r.source_key) for r in moved}
    return [
        f
        for f in failures
        if selection.matches_record(f.customer_id, f.kind, f.source_key)
        and not f.waiting
        and not f.parked
        and (f.customer_id, f.kind, f.source_key) not in already
        and (not f.retryable or f.last_failed_at < now - DLQ_RETENTION)
    ]


def send_retries(sqs: Any, queue_url: str, failures: Sequence[FailedRecord], now: dt.datetime) -> list[RecordRetry]:
    """Queue a retry by key for each failure; returns those sent."""
    retries = [RecordRetry.of(f, reason=f"replayed by an operator after: {f.error}", now=now) for f in failures]
    sent: list[RecordRetry] = []
    for start in range(0, len(retries), _SQS_BATCH):
        chunk = retries[start : start + _SQS_BATCH]
        answer = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": r.model_dump_json()} for i, r in enumerate(chunk)],
        )
        failed = {int(f["Id"]) for f in answer.get("Failed", [])}
        sent += [r for i, r in enumerate(chunk) if i not in failed]
    return sent
