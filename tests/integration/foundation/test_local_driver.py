"""The local driver delivers SQS batches as Lambda's poller would: concurrently up to the function's concurrency,
FIFO groups one batch at a time, failed messages only after their visibility timeout or back-off on SQS's clock, and
SQS (moto) dead-letters what keeps failing. Crashes land at named fault points, never by racing a timeout."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ml_local.driver import LocalDriver
from ml_local.moto_clock import CompressedClock
from ml_local.session import LocalStack
from tests.support.crashes import arm_crash, disarm, fired_crashes

RETRY_VISIBILITY_SECONDS = 720  # template.yaml: the retry queue's VisibilityTimeout


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


def empty(sqs: Any, queue_url: str) -> None:
    """Delete every visible message (SQS allows one PurgeQueue a minute; earlier tests' drains leave none hidden)."""
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def flaky(fresh_stack: LocalStack, tmp_path: Path) -> Iterator[FlakyRetryFunction]:
    """The retry queue's consumer swapped for a handler that fails on request; everything else as deployed."""
    stand_in = dataclasses.replace(
        fresh_stack.stack.functions["RetryFunction"], code_dir="tests/fixtures/flaky_function"
    )
    seen_file = tmp_path / "seen.jsonl"
    sqs = fresh_stack.aws.client("sqs")
    for queue in ("RetryQueueUrl", "RecordDeadLetterQueueUrl"):  # what an earlier test left is not this test's
        empty(sqs, fresh_stack.stack.outputs[queue])
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


@dataclasses.dataclass
class Rendezvous:
    """Stand-ins that record what they handled (tests/support/rendezvous_function) on the retry queue (standard)
    and on the vendors work queue (FIFO), each consumed one message per batch, two invocations at once."""

    driver: LocalDriver
    sqs: Any
    retry_queue_url: str
    fifo_queue_url: str
    room: Path
    _ids: Iterator[int] = dataclasses.field(default_factory=itertools.count)

    def send(self, **body: Any) -> None:
        self.sqs.send_message(QueueUrl=self.retry_queue_url, MessageBody=json.dumps(body))

    def send_fifo(self, group: str, **body: Any) -> None:
        self.sqs.send_message(
            QueueUrl=self.fifo_queue_url,
            MessageBody=json.dumps(body),
            MessageGroupId=group,
            MessageDeduplicationId=f"{body['id']}-{next(self._ids)}",
        )

    @property
    def retry_queue(self) -> str:
        return self.retry_queue_url.rsplit("/", 1)[-1]

    def seen(self) -> list[dict[str, Any]]:
        path = self.room / "seen.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def rendezvous(fresh_stack: LocalStack, tmp_path: Path) -> Iterator[Rendezvous]:
    functions = fresh_stack.stack.functions

    def one_at_a_time(logical_id: str) -> Any:
        function = functions[logical_id]
        sources = [dataclasses.replace(s, batch_size=1) for s in function.event_sources]
        return dataclasses.replace(function, code_dir="tests/support/rendezvous_function", event_sources=sources)

    stand_ins = {name: one_at_a_time(name) for name in ("RetryFunction", "VendorsFunction")}
    (fifo_source,) = stand_ins["VendorsFunction"].event_sources
    with fresh_stack.variant(stand_ins, extra_environment={"RENDEZVOUS_DIR": str(tmp_path)}, concurrency=2) as driver:
        yield Rendezvous(
            driver,
            fresh_stack.aws.client("sqs"),
            fresh_stack.stack.outputs["RetryQueueUrl"],
            fifo_source.queue_url,
            tmp_path,
        )
        disarm(driver.runtime, "RetryFunction")
        driver.drain()


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


def test_a_partial_batch_failure_keeps_only_the_failed_message_until_its_visibility_timeout(
    flaky: FlakyRetryFunction,
) -> None:
    flaky.send(n=1, outcome="ok")
    flaky.send(n=2, outcome="fail")
    first = flaky.driver.deliver_once()
    assert (first.delivered, first.succeeded, first.failed) == (2, 1, 1)
    assert flaky.driver.deliver_once().delivered == 0, "redelivered before its visibility timeout"
    sqs_clock, queue = flaky.driver.clock, flaky.queue_url.rsplit("/", 1)[-1]
    assert sqs_clock.skip_to_next_visible([queue], RETRY_VISIBILITY_SECONDS - 1) is None
    skipped = sqs_clock.skip_to_next_visible([queue], RETRY_VISIBILITY_SECONDS + 1)
    assert skipped is not None and skipped > RETRY_VISIBILITY_SECONDS - 5
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


def test_standard_queue_messages_are_handled_by_concurrent_invocations(rendezvous: Rendezvous) -> None:
    rendezvous.send(id="a", meet=2)
    rendezvous.send(id="b", meet=2)
    report = rendezvous.driver.deliver_once()
    assert (report.delivered, report.succeeded) == (2, 2)
    # Each waited inside its own invocation until the other arrived: both were in flight at the same time.
    assert sorted((s["id"], s["met"]) for s in rendezvous.seen()) == [("a", True), ("b", True)]


def test_a_fifo_message_group_has_one_batch_in_flight_while_groups_run_concurrently(rendezvous: Rendezvous) -> None:
    rendezvous.send_fifo("customer-1", id="1a", meet=2)
    rendezvous.send_fifo("customer-1", id="1b")
    rendezvous.send_fifo("customer-2", id="2a", meet=2)
    first = rendezvous.driver.deliver_once()
    assert first.delivered == 2
    assert sorted((s["id"], s["met"]) for s in rendezvous.seen()) == [("1a", True), ("2a", True)]
    second = rendezvous.driver.deliver_once()
    assert second.delivered == 1
    assert [s["id"] for s in rendezvous.seen()][-1] == "1b"


def test_a_backed_off_record_comes_back_only_after_its_back_off_on_the_sqs_clock(rendezvous: Rendezvous) -> None:
    rendezvous.send(id="late", back_off=120)
    assert rendezvous.driver.deliver_once().failed == 1
    assert rendezvous.driver.deliver_once().delivered == 0
    sqs_clock = rendezvous.driver.clock
    assert sqs_clock.skip_to_next_visible([rendezvous.retry_queue], 119) is None, "visible before its back-off"
    before = sqs_clock.now()
    assert rendezvous.driver.skip_to_next_visible()
    assert 119 < sqs_clock.now() - before < 122
    again = rendezvous.driver.deliver_once()
    assert again.delivered == 1
    assert [(s["id"], s["receive_count"]) for s in rendezvous.seen()] == [("late", "1"), ("late", "2")]


def test_a_delayed_message_is_delivered_only_after_its_delay(rendezvous: Rendezvous) -> None:
    rendezvous.sqs.send_message(
        QueueUrl=rendezvous.retry_queue_url, MessageBody=json.dumps({"id": "delayed"}), DelaySeconds=300
    )
    assert rendezvous.driver.deliver_once().delivered == 0
    assert rendezvous.driver.clock.skip_to_next_visible([rendezvous.retry_queue], 299) is None
    report = rendezvous.driver.drain()
    assert (report.delivered, report.succeeded) == (1, 1)
    assert [s["id"] for s in rendezvous.seen()] == ["delayed"]


def test_a_worker_killed_at_a_fault_point_is_replaced_and_its_batch_redelivered_after_the_timeout(
    rendezvous: Rendezvous,
) -> None:
    arm_crash(rendezvous.driver.runtime, "RetryFunction", "record.done", at=2)
    rendezvous.send(id="first")
    assert rendezvous.driver.deliver_once().succeeded == 1
    rendezvous.send(id="second")
    crashed = rendezvous.driver.deliver_once()
    assert crashed.failed == 1 and "exited with code 137" in crashed.errors[0]
    assert fired_crashes(rendezvous.driver.runtime, "RetryFunction") == ["record.done"]
    assert rendezvous.driver.deliver_once().delivered == 0, "a crashed batch is hidden for the visibility timeout"
    report = rendezvous.driver.drain()
    assert (report.delivered, report.succeeded) == (1, 1)
    assert [(s["id"], s["receive_count"]) for s in rendezvous.seen()] == [("first", "1"), ("second", "2")]


def test_the_sqs_clock_runs_scale_times_as_fast_as_the_wall_clock_and_skips_ahead() -> None:
    wall = [1_000.0]
    clock = CompressedClock(60, wall=lambda: wall[0])
    start = clock.now()
    wall[0] += 2
    assert clock.now() - start == pytest.approx(120)
    clock.skip(30)
    assert clock.now() - start == pytest.approx(150)
    with pytest.raises(ValueError, match="never goes back"):
        clock.skip(-1)
