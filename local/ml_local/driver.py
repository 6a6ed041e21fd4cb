"""Drives the local stack the way AWS would: schedules fire functions, SQS event source mappings deliver batches.

moto never fires schedules and cannot invoke functions without Docker, so this is the piece that does. Delivery
follows Lambda's SQS poller: for each event source, as many batches at once as the function's concurrency allows
(each of up to BatchSize messages), invoked at the same time; delete what succeeded; with ReportBatchItemFailures
only the listed messages stay; a raised error, a crash or a timeout keeps the whole batch. What stays becomes visible
again when its visibility timeout (or the delay the function set) has passed on SQS's clock, never earlier. SQS
itself (moto) counts receives, keeps a FIFO message group to one batch in flight, and moves a message to its
dead-letter queue after maxReceiveCount.

SQS's clock is the moto server's own (``ml_local.moto_clock``): it may run faster than the wall clock, and a
draining driver that finds nothing visible moves it ahead to the moment the next hidden message becomes visible, as
an idle poller would live through the wait. Back-off and visibility are honoured in their logical order, without
waiting for them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ml_local.aws import SqsClockClient
from ml_local.lambda_runtime import FunctionError, LocalLambda
from ml_local.stack import DeployedStack, EventSource, LocalFunction


@dataclass
class DeliveryReport:
    delivered: int = 0
    succeeded: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        self.delivered += other.delivered
        self.succeeded += other.succeeded
        self.failed += other.failed
        self.errors += other.errors


# SQS hides a message at most 12 hours (the longest visibility timeout); a drain never skips further than that.
MAX_SKIP_SECONDS = 12 * 60 * 60 + 1


class LocalDriver:
    """``skip_idle_time``: when a drain finds nothing visible, move SQS's clock to the next hidden message instead of
    stopping (tests, the demo); off for a stack that runs in real (or scaled) time, such as ``ml-local up``."""

    def __init__(
        self,
        stack: DeployedStack,
        runtime: LocalLambda,
        *,
        skip_idle_time: bool = True,
        clock: SqsClockClient | None = None,
    ) -> None:
        self._stack = stack
        self.runtime = runtime
        self._sqs = stack.aws.client("sqs")
        self.skips_idle_time = skip_idle_time
        self.clock = clock or SqsClockClient(stack.endpoint_url)

    def fire_schedules(self) -> list[Any]:
        """Fire every schedule once, as EventBridge Scheduler would at its next tick."""
        return [
            self.runtime.invoke(schedule.target_function, json.loads(schedule.input))
            for schedule in self._stack.schedules
        ]

    def deliver_once(self) -> DeliveryReport:
        """One poll of every event source mapping: up to the function's concurrency in batches, run at once."""
        batches = [
            (function, source, messages)
            for function in self._stack.functions.values()
            for source in function.event_sources
            for messages in self._receive_batches(source, self.runtime.concurrency_of(function.logical_id))
        ]
        report = DeliveryReport()
        if not batches:
            return report
        with ThreadPoolExecutor(max_workers=len(batches), thread_name_prefix="sqs-poller") as pool:
            for outcome in pool.map(lambda batch: self._deliver_batch(*batch), batches):
                report.add(outcome)
        return report

    def drain(
        self, *, max_rounds: int = 200, on_round: Callable[[int, DeliveryReport], None] | None = None
    ) -> DeliveryReport:
        """Deliver until no queue with a consumer has anything to deliver (or ``max_rounds`` polls). With
        ``skip_idle_time``, hidden messages (a retry's back-off, a crashed batch) are waited for on SQS's clock."""
        total = DeliveryReport()
        for round_no in range(1, max_rounds + 1):
            report = self.deliver_once()
            if on_round is not None:
                on_round(round_no, report)
            total.add(report)
            if report.delivered == 0 and not self.skip_to_next_visible():
                break
        return total

    def skip_to_next_visible(self) -> bool:
        """Move SQS's clock to when the next hidden message of a consumed queue becomes visible (if skipping is on)."""
        if not self.skips_idle_time:
            return False
        return self.clock.skip_to_next_visible(self._consumed_queue_names(), MAX_SKIP_SECONDS) is not None

    def _consumed_queue_names(self) -> list[str]:
        return [
            source.queue_url.rsplit("/", 1)[-1]
            for function in self._stack.functions.values()
            for source in function.event_sources
        ]

    def _receive_batches(self, source: EventSource, pollers: int) -> list[list[dict[str, Any]]]:
        batches = []
        for _ in range(pollers):
            messages: list[dict[str, Any]] = self._sqs.receive_message(
                QueueUrl=source.queue_url,
                MaxNumberOfMessages=min(source.batch_size, 10),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                break
            batches.append(messages)
        return batches

    def _deliver_batch(
        self, function: LocalFunction, source: EventSource, messages: list[dict[str, Any]]
    ) -> DeliveryReport:
        event = {"Records": [self._record(m, source) for m in messages]}
        report = DeliveryReport(delivered=len(messages))
        try:
            response = self.runtime.invoke(function.logical_id, event)
        except FunctionError as exc:
            report.failed = len(messages)
            report.errors.append(str(exc))
            return report
        failed_ids = self._failed_ids(response) if source.report_batch_item_failures else set()
        succeeded = [m for m in messages if m["MessageId"] not in failed_ids]
        if succeeded:
            self._sqs.delete_message_batch(
                QueueUrl=source.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(succeeded)],
            )
        report.succeeded, report.failed = len(succeeded), len(messages) - len(succeeded)
        return report

    @staticmethod
    def _failed_ids(response: Any) -> set[str]:
        if not isinstance(response, dict):
            return set()
        return {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}

    def _record(self, message: dict[str, Any], source: EventSource) -> dict[str, Any]:
        body = message["Body"]
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": body,
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": source.queue_arn,
            "awsRegion": self._stack.aws.region,
        }
