"""mlc replay and mlc dlq against the session's record DLQ (shared: each test uses its own customers)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ml_cli.__main__ import main
from ml_cli.deployment import Deployment, local_deployment
from ml_connector.kinds import Stage
from ml_connector.messages import RecordRetry
from ml_connector.state.models import AuditEvent, FailedRecord
from tests.cli.conftest import Mlc, dead_letter
from tests.support.customers import make_customer


def retry(customer_id: str, key: str, kind: str = "vendor") -> RecordRetry:
    return RecordRetry(
        customer_id=customer_id,
        stage=Stage.VENDORS,
        kind=kind,
        source_key=key,
        reason=f"{kind} {key} refused",
        first_failed_at=dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC),
    )


def queued(deployment: Deployment, queue_url: str, customer_ids: set[str]) -> set[tuple[str, str, str]]:
    """(customer, kind, key) of the given customers' messages on a queue, without consuming them."""
    sqs = deployment.client("sqs")
    seen: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30).get(
            "Messages", []
        )
        if not messages:
            break
        seen += messages
    for message in seen:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    retries = [RecordRetry.model_validate_json(m["Body"]) for m in seen if m["Body"].startswith("{")]
    return {(r.customer_id, r.kind, r.source_key) for r in retries if r.customer_id in customer_ids}


@pytest.fixture
def two_customers(deployment: Deployment, customer_id: str, queue_cleanup: set[str]) -> tuple[str, str]:
    first, second = f"{customer_id}-a", f"{customer_id}-b"
    queue_cleanup.update({first, second})
    for customer in (first, second):
        deployment.customers().put(make_customer(customer))
    for message in (retry(first, "K1"), retry(first, "K2"), retry(first, "K1", kind="invoice"), retry(second, "K3")):
        dead_letter(deployment, message)
    return first, second


def test_replay_one_record_moves_only_that_record(
    mlc: Mlc, deployment: Deployment, two_customers: tuple[str, str]
) -> None:
    first, second = two_customers
    mine = set(two_customers)

    result = mlc("replay", "--record", first, "vendor", "K1")

    assert result.code == 0, result.err
    assert "moved 1 message(s)" in result.out
    assert queued(deployment, deployment.retry_queue_url, mine) == {(first, "vendor", "K1")}
    assert queued(deployment, deployment.record_dlq_url, mine) == {
        (first, "vendor", "K2"),
        (first, "invoice", "K1"),
        (second, "vendor", "K3"),
    }
    trail = deployment.state().list_audit(first, "vendor", "K1")
    assert [e.event for e in trail] == [AuditEvent.REPLAYED]


def test_replay_one_customer_moves_its_records_and_leaves_the_others(
    mlc: Mlc, deployment: Deployment, two_customers: tuple[str, str]
) -> None:
    first, second = two_customers
    mine = set(two_customers)

    result = mlc("replay", "--customer", first, "--json")

    assert result.code == 0, result.err
    assert json.loads(result.out)["moved"] == 3
    assert queued(deployment, deployment.retry_queue_url, mine) == {
        (first, "vendor", "K1"),
        (first, "vendor", "K2"),
        (first, "invoice", "K1"),
    }
    assert queued(deployment, deployment.record_dlq_url, mine) == {(second, "vendor", "K3")}


@pytest.fixture
def isolated_target(stack_file: Path, deployment: Deployment, tmp_path: Path) -> Iterator[tuple[Path, Deployment]]:
    """A copy of the stack description whose DLQ and retry queue are fresh queues: --all moves only what we put."""
    sqs = deployment.client("sqs")
    suffix = uuid.uuid4().hex[:8]
    dlq_url = sqs.create_queue(QueueName=f"cli-dlq-{suffix}")["QueueUrl"]
    retry_url = sqs.create_queue(QueueName=f"cli-retry-{suffix}")["QueueUrl"]
    described = json.loads(stack_file.read_text(encoding="utf-8"))
    described["outputs"] |= {"RecordDeadLetterQueueUrl": dlq_url, "RetryQueueUrl": retry_url}
    isolated = tmp_path / "stack.json"
    isolated.write_text(json.dumps(described), encoding="utf-8")
    yield isolated, local_deployment(isolated)
    sqs.delete_queue(QueueUrl=dlq_url)
    sqs.delete_queue(QueueUrl=retry_url)


def test_replay_all_falls_back_to_moving_messages_where_the_move_task_is_unsupported(
    isolated_target: tuple[Path, Deployment], capsys: pytest.CaptureFixture[str]
) -> None:
    path, target = isolated_target
    for message in (retry("cli-all-a", "K1"), retry("cli-all-a", "K2"), retry("cli-all-b", "K3")):
        dead_letter(target, message)
    target.client("sqs").send_message(QueueUrl=target.record_dlq_url, MessageBody="not a record retry")

    code = main(["replay", "--all", "--json", f"--local={path}"])

    assert code == 0
    outcome = json.loads(capsys.readouterr().out)
    del outcome["requeued"]  # other tests' refused records in the shared state table are replayed too
    assert outcome == {"moved": 4, "left_in_dlq": 0, "move_task_handle": None, "failed": []}
    assert queued(target, target.retry_queue_url, {"cli-all-a", "cli-all-b"}) == {
        ("cli-all-a", "vendor", "K1"),
        ("cli-all-a", "vendor", "K2"),
        ("cli-all-b", "vendor", "K3"),
    }
    attributes = target.client("sqs").get_queue_attributes(
        QueueUrl=target.record_dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"


def test_replay_needs_exactly_one_selection(mlc: Mlc) -> None:
    neither = mlc("replay")
    both = mlc("replay", "--all", "--customer", "acme")

    assert neither.code == 2
    assert both.code == 2
    assert len(both.err.splitlines()) == 1


def test_dlq_lists_messages_without_consuming_them(
    mlc: Mlc, deployment: Deployment, two_customers: tuple[str, str]
) -> None:
    first, second = two_customers

    text = mlc("dlq")
    as_json = mlc("dlq", "--json")

    assert text.code == 0, text.err
    lines = text.out.splitlines()
    assert any(line.startswith(second) and "K3" in line and "vendor K3 refused" in line for line in lines)
    listed = [m for m in json.loads(as_json.out) if m["customer_id"] in two_customers]
    assert len(listed) == 4
    assert {m["source_key"] for m in listed if m["customer_id"] == first} == {"K1", "K2"}
    assert len(queued(deployment, deployment.record_dlq_url, set(two_customers))) == 4


def failure(customer_id: str, key: str, *, retryable: bool, age: dt.timedelta, **fields: Any) -> FailedRecord:
    at = dt.datetime.now(dt.UTC) - age
    return FailedRecord(
        customer_id=customer_id, kind="invoice", source_key=key, stage=Stage.INVOICES, error=f"{key} failed",
        retryable=retryable, attempts=1, first_failed_at=at, last_failed_at=at, **fields,
    )  # fmt: skip


def test_replay_queues_again_by_key_what_no_queue_holds_whatever_its_age(
    mlc: Mlc, deployment: Deployment, customer_id: str, queue_cleanup: set[str]
) -> None:
    queue_cleanup.add(customer_id)
    deployment.customers().put(make_customer(customer_id))
    state = deployment.state()
    for record in (
        failure(customer_id, "01-A/REFUSED", retryable=False, age=dt.timedelta(days=40)),
        failure(customer_id, "01-A/FLAGGED", retryable=False, age=dt.timedelta(hours=1), flagged=True),
        failure(customer_id, "01-A/EXPIRED", retryable=True, age=dt.timedelta(days=20)),
        failure(customer_id, "01-A/ON-QUEUE", retryable=True, age=dt.timedelta(hours=1)),
        failure(customer_id, "01-A/WAITING", retryable=True, age=dt.timedelta(days=20), blocked_by="vendor:01-A"),
        failure(customer_id, "01-A/PARKED", retryable=True, age=dt.timedelta(days=20), parked=True),
    ):
        state.record_failure(record)

    result = mlc("replay", "--customer", customer_id)

    assert result.code == 0, result.err
    assert "queued 3 other open failure(s) again by key" in result.out
    assert queued(deployment, deployment.retry_queue_url, {customer_id}) == {
        (customer_id, "invoice", "01-A/REFUSED"),
        (customer_id, "invoice", "01-A/FLAGGED"),
        (customer_id, "invoice", "01-A/EXPIRED"),
    }
    assert [e.event for e in state.list_audit(customer_id, "invoice", "01-A/REFUSED")] == [AuditEvent.REPLAYED]
