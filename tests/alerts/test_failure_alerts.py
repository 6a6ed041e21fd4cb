"""A new kind of failure for a customer is published once to the alarm topic; repeats stay quiet."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ml_connector.alerts import publish_new_failure_kinds
from ml_connector.kinds import Stage
from ml_connector.state.models import FailedRecord
from ml_local.session import LocalStack
from sage_agent.records import VendorFields
from tests.fakes import FakeStateStore
from tests.support.customers import UTC_NOON
from tests.support.system import ConnectedCustomer, connected_customer


class Topic:
    def __init__(self) -> None:
        self.published: list[tuple[str, str]] = []

    def publish(self, subject: str, message: str) -> None:
        self.published.append((subject, message))


def failure(key: str, error: str, **fields: Any) -> FailedRecord:
    values: dict[str, Any] = {"retryable": False, "attempts": 1, "first_failed_at": UTC_NOON}
    values.update({"last_failed_at": UTC_NOON, **fields})
    return FailedRecord(customer_id="acme-build", kind="invoice", source_key=key, stage=Stage.INVOICES, error=error,
                        **values)  # fmt: skip


def test_each_kind_is_published_once_with_its_count_and_fix_and_waiting_records_never() -> None:
    state, topic = FakeStateStore(), Topic()
    state.record_failure(failure("01-A/1", "invoice 01-A/1: GL account 6100-02-300 is inactive; run the gl stage"))
    state.record_failure(failure("01-B/2", "invoice 01-B/2: GL account 7000-01-100 is inactive; run the gl stage"))
    state.record_failure(failure("01-C/3", "waiting: vendor 01-C on hold", retryable=True, blocked_by="vendor:01-C"))

    first = publish_new_failure_kinds("acme-build", state, topic, UTC_NOON)
    state.record_failure(failure("01-D/4", "invoice 01-D/4: GL account 6200-02-300 is inactive; run the gl stage"))
    again = publish_new_failure_kinds("acme-build", state, topic, UTC_NOON + dt.timedelta(minutes=30))
    state.record_failure(failure("01-E/5", "invoice 01-E/5: image is 31457280 bytes, over the limit"))
    other = publish_new_failure_kinds("acme-build", state, topic, UTC_NOON + dt.timedelta(hours=1))

    assert [a.count for a in first] == [2] and again == [] and len(other) == 1
    (subject, message), _ = topic.published
    assert subject == "ml-connector: new failure for acme-build: invoices invoice"
    assert "Records failing this way now: 2" in message
    assert "Reason: GL account # is inactive; run the gl stage" in message
    assert "What to do: run the gl stage" in message
    assert "vendor 01-C" not in message


@pytest.fixture
def company(stack: LocalStack, tmp_path: Path) -> Iterator[ConnectedCustomer]:
    with connected_customer(stack, tmp_path, f"alerts-{uuid.uuid4().hex[:8]}", seed="empty") as system:
        yield system


def subscribe(stack: LocalStack) -> str:
    """An SQS queue subscribed to the alarm topic: how a test reads what SNS published."""
    aws = stack.aws
    topic_arn = stack.stack.function("VendorsFunction").environment["ALARM_TOPIC_ARN"]
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"alarm-reader-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return str(queue_url)


def published(stack: LocalStack, queue_url: str, customer_id: str) -> list[dict[str, Any]]:
    sqs = stack.aws.client("sqs")
    found: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            notification = json.loads(message["Body"])
            if customer_id in notification["Subject"]:
                found.append(notification)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def add_vendor(system: ConnectedCustomer, vendor_no: str, name: str) -> None:
    system.agent.clock.advance(dt.timedelta(minutes=1))
    system.agent.backend.create_vendor(VendorFields(APDivisionNo="01", VendorNo=vendor_no, VendorName=name))


@pytest.mark.slow
def test_a_new_kind_of_failure_reaches_the_alarm_topic_once(company: ConnectedCustomer) -> None:
    queue_url = subscribe(company.stack)
    add_vendor(company, "BLANK1", "   ")
    add_vendor(company, "BLANK2", "   ")
    add_vendor(company, "FINE", "Fine Vendor")

    company.run(Stage.VENDORS, cycle_id="first")
    first = published(company.stack, queue_url, company.customer_id)
    add_vendor(company, "BLANK3", "   ")
    company.run(Stage.VENDORS, cycle_id="second")
    second = published(company.stack, queue_url, company.customer_id)

    (notification,) = first
    assert notification["Subject"] == f"ml-connector: new failure for {company.customer_id}: vendors vendor"
    assert f"Customer: {company.customer_id}" in notification["Message"]
    assert "Records failing this way now: 2" in notification["Message"]
    assert "AvidXchange refused it" in notification["Message"]
    assert "What to do: " in notification["Message"]
    assert second == [], "a repeat of a kind already published stays quiet"
    assert len([f for f in company.state.list_failures(company.customer_id) if not f.waiting]) == 3
