"""Drives the local stack the way AWS would: schedules fire functions, SQS event source mappings deliver batches.

moto never fires schedules and cannot invoke functions without Docker, so this is the piece that does. Delivery
follows Lambda's SQS poller: receive up to BatchSize, invoke, delete what succeeded; with ReportBatchItemFailures only
the listed messages stay; a raised error keeps the whole batch. SQS itself (moto) counts receives and moves a message
to its dead-letter queue after maxReceiveCount.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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


class LocalDriver:
    """``redeliver_failed_now`` stands in for the visibility timeout passing, so a local run does not wait for it."""

    def __init__(self, stack: DeployedStack, runtime: LocalLambda, *, redeliver_failed_now: bool = True) -> None:
        self._stack = stack
        self._runtime = runtime
        self._sqs = stack.aws.client("sqs")
        self._redeliver_failed_now = redeliver_failed_now

    def fire_schedules(self) -> list[Any]:
        """Fire every schedule once, as EventBridge Scheduler would at its next tick."""
        return [
            self._runtime.invoke(schedule.target_function, json.loads(schedule.input))
            for schedule in self._stack.schedules
        ]

    def deliver_once(self) -> DeliveryReport:
        """One poll of every event source mapping."""
        report = DeliveryReport()
        for function in self._stack.functions.values():
            for source in function.event_sources:
                report.add(self._deliver_batch(function, source))
        return report

    def drain(
        self, *, max_rounds: int = 200, on_round: Callable[[int, DeliveryReport], None] | None = None
    ) -> DeliveryReport:
        """Deliver until no queue with a consumer has anything to deliver (or ``max_rounds`` polls)."""
        total = DeliveryReport()
        for round_no in range(1, max_rounds + 1):
            report = self.deliver_once()
            if on_round is not None:
                on_round(round_no, report)
            total.add(report)
            if report.delivered == 0:
                break
        return total

    def _deliver_batch(self, function: LocalFunction, source: EventSource) -> DeliveryReport:
        messages = self._sqs.receive_message(
            QueueUrl=source.queue_url,
            MaxNumberOfMessages=min(source.batch_size, 10),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return DeliveryReport()
        event = {"Records": [self._record(m, source) for m in messages]}
        report = DeliveryReport(delivered=len(messages))
        try:
            response = self._runtime.invoke(function.logical_id, event)
        except FunctionError as exc:
            report.failed = len(messages)
            report.errors.append(str(exc))
            self._release([m["ReceiptHandle"] for m in messages], source)
            return report
        failed_ids = self._failed_ids(response) if source.report_batch_item_failures else set()
        succeeded = [m for m in messages if m["MessageId"] not in failed_ids]
        failed = [m for m in messages if m["MessageId"] in failed_ids]
        if succeeded:
            self._sqs.delete_message_batch(
                QueueUrl=source.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(succeeded)],
            )
        self._release([m["ReceiptHandle"] for m in failed], source)
        report.succeeded, report.failed = len(succeeded), len(failed)
        return report

    def _release(self, receipt_handles: list[str], source: EventSource) -> None:
        if not self._redeliver_failed_now:
            return
        for handle in receipt_handles:
            self._sqs.change_message_visibility(QueueUrl=source.queue_url, ReceiptHandle=handle, VisibilityTimeout=0)

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
