"""replay_dead_letters' choice of method, with a stand-in SQS client (moto has no StartMessageMoveTask)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ml_cli.dead_letters import ReplaySelection, replay_dead_letters

DLQ = "https://sqs.example/dlq"
RETRY = "https://sqs.example/retry"


class MoveTaskSqs:
    """Answers what the move-task path asks; ``refuse_with`` makes StartMessageMoveTask fail with that error."""

    def __init__(self, refuse_with: dict[str, Any] | None = None) -> None:
        self.refuse_with = refuse_with
        self.move_tasks: list[dict[str, str]] = []
        self.receives = 0

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        name = QueueUrl.rsplit("/", 1)[1]
        return {
            "Attributes": {"QueueArn": f"arn:aws:sqs:us-east-1:123456789012:{name}", "ApproximateNumberOfMessages": "7"}
        }

    def start_message_move_task(self, SourceArn: str, DestinationArn: str) -> dict[str, str]:
        if self.refuse_with is not None:
            raise ClientError(self.refuse_with, "StartMessageMoveTask")
        self.move_tasks.append({"source": SourceArn, "destination": DestinationArn})
        return {"TaskHandle": "task-1"}

    def receive_message(self, **_: Any) -> dict[str, Any]:
        self.receives += 1
        return {"Messages": []}

    def change_message_visibility_batch(self, **_: Any) -> None:
        return None


def test_replay_all_uses_the_sqs_move_task_where_available() -> None:
    sqs = MoveTaskSqs()

    outcome = replay_dead_letters(sqs, dlq_url=DLQ, target_url=RETRY, selection=ReplaySelection())

    assert sqs.move_tasks == [
        {"source": "arn:aws:sqs:us-east-1:123456789012:dlq", "destination": "arn:aws:sqs:us-east-1:123456789012:retry"}
    ]
    assert outcome.move_task_handle == "task-1"
    assert outcome.moved == 7
    assert sqs.receives == 0


@pytest.mark.parametrize(
    "error",
    [
        {"Error": {"Code": "UnsupportedOperation", "Message": "no"}},
        {"Error": {"Code": "500", "Message": "<html>"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
    ],
)
def test_replay_all_falls_back_when_the_move_task_is_unsupported(error: dict[str, Any]) -> None:
    sqs = MoveTaskSqs(refuse_with=error)

    outcome = replay_dead_letters(sqs, dlq_url=DLQ, target_url=RETRY, selection=ReplaySelection(), wait_seconds=0)

    assert outcome.move_task_handle is None
    assert sqs.receives == 1


def test_replay_all_does_not_hide_other_move_task_errors() -> None:
    sqs = MoveTaskSqs(refuse_with={"Error": {"Code": "AccessDenied", "Message": "not allowed"}})

    with pytest.raises(ClientError, match="AccessDenied"):
        replay_dead_letters(sqs, dlq_url=DLQ, target_url=RETRY, selection=ReplaySelection())
    assert sqs.receives == 0


def test_a_selective_replay_never_starts_a_move_task() -> None:
    sqs = MoveTaskSqs()

    replay_dead_letters(
        sqs, dlq_url=DLQ, target_url=RETRY, selection=ReplaySelection(customer_id="acme"), wait_seconds=0
    )

    assert sqs.move_tasks == []
    assert sqs.receives == 1
