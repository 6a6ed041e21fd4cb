"""The local driver delivers SQS batches as Lambda's poller would, and SQS (moto) dead-letters what keeps failing."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ml_local.driver import LocalDriver
from ml_local.session import LocalStack


@dataclasses.dataclass
class FlakyRetryFunction:
    driver: LocalDriver
    sqs: Any
    queue_url: str
    dlq_url: str
    seen_file: Path

    def seen(self) -> list[dict[str, Any]]:
        if not self.seen_file.exists():
            return []
        return [json.loads(line) for line in self.seen_file.read_text().splitlines()]

    def send(self, **body: Any) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(body))

    def dead_letters(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in messages]


@pytest.fixture
def flaky(fresh_stack: LocalStack, tmp_path: Path) -> Iterator[FlakyRetryFunction]:
    """The retry queue's consumer swapped for a handler that fails on request; everything else as deployed."""
    stand_in = dataclasses.replace(
        fresh_stack.stack.functions["RetryFunction"], code_dir="tests/fixtures/flaky_function"
    )
    seen_file = tmp_path / "seen.jsonl"
    with fresh_stack.variant(
        {"RetryFunction": stand_in}, extra_environment={"FLAKY_SEEN_FILE": str(seen_file)}
    ) as driver:
        yield FlakyRetryFunction(
            driver,
            fresh_stack.aws.client("sqs"),
            fresh_stack.stack.outputs["RetryQueueUrl"],
            fresh_stack.stack.outputs["RecordDeadLetterQueueUrl"],
            seen_file,
        )


def test_a_message_is_delivered_with_the_template_environment(
    flaky: FlakyRetryFunction, fresh_stack: LocalStack
) -> None:
    flaky.send(n=1, outcome="ok")
    report = flaky.driver.drain()
    assert (report.delivered, report.succeeded, report.failed) == (1, 1, 0)
    (seen,) = flaky.seen()
    assert json.loads(seen["body"]) == {"n": 1, "outcome": "ok"}
    assert seen["state_table"] == fresh_stack.stack.function("RetryFunction").environment["STATE_TABLE"]
    assert flaky.dead_letters() == []


def test_a_partial_batch_failure_keeps_only_the_failed_message(flaky: FlakyRetryFunction) -> None:
    flaky.send(n=1, outcome="ok")
    flaky.send(n=2, outcome="fail")
    first = flaky.driver.deliver_once()
    assert (first.delivered, first.succeeded, first.failed) == (2, 1, 1)
    second = flaky.driver.deliver_once()
    assert (second.delivered, second.failed) == (1, 1)
    assert [json.loads(s["body"])["n"] for s in flaky.seen()] == [1, 2, 2]
    flaky.driver.drain()
    assert [m["n"] for m in flaky.dead_letters()] == [2]


def test_a_message_that_keeps_failing_moves_to_the_dlq_after_max_receives(
    flaky: FlakyRetryFunction, fresh_stack: LocalStack
) -> None:
    max_receives = int(fresh_stack.stack.parameters["RecordMaxReceives"])
    flaky.send(n=7, outcome="raise")
    report = flaky.driver.drain()
    assert report.delivered == max_receives
    assert report.failed == max_receives
    assert all("handler raised on purpose" in e for e in report.errors)
    assert flaky.dead_letters() == [{"n": 7, "outcome": "raise"}]
