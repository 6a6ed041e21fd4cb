"""One dispatcher cycle through the local stack: schedule fires the function, work lands on the FIFO queues."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from ml_connector.customers import customer_to_item
from ml_local.session import LocalStack
from tests.support.customers import customer_item, make_customer


@pytest.fixture
def customers(fresh_stack: LocalStack) -> Iterator[Any]:
    table = fresh_stack.aws.resource("dynamodb").Table(fresh_stack.settings().customers_table)
    yield table
    for item in table.scan()["Items"]:
        table.delete_item(Key={"customer_id": item["customer_id"]})


def _drain_queue(fresh_stack: LocalStack, queue_url: str) -> list[dict[str, Any]]:
    sqs = fresh_stack.aws.client("sqs")
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
        "Messages", []
    ):
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        messages += batch
    return messages


def test_a_cycle_queues_due_stages_in_order_and_skips_an_invalid_customer(
    fresh_stack: LocalStack, customers: Any
) -> None:
    customers.put_item(Item=customer_to_item(make_customer("dispatch-ok")))
    customers.put_item(Item=customer_item("dispatch-bad", agent={"base_url": "https://x.example", "company": "abcd"}))
    customers.put_item(Item=customer_to_item(make_customer("dispatch-off", enabled=False)))

    (summary,) = fresh_stack.driver.fire_schedules()

    assert summary["queued"] == ["dispatch-ok:vendors>gl>invoices>payments"]
    (invalid,) = summary["invalid"]
    assert invalid.startswith("customer dispatch-bad: agent.company: String should match pattern")
    (message,) = _drain_queue(fresh_stack, fresh_stack.settings().vendors_queue_url)
    assert message["Attributes"]["MessageGroupId"] == "dispatch-ok"
    order = json.loads(message["Body"])
    assert order["stage"] == "vendors"
    assert order["then"] == ["gl", "invoices", "payments"]


def test_a_customer_with_a_run_in_flight_is_not_queued_twice(fresh_stack: LocalStack, customers: Any) -> None:
    customers.put_item(Item=customer_to_item(make_customer("dispatch-once")))
    (first,) = fresh_stack.driver.fire_schedules()
    (second,) = fresh_stack.driver.fire_schedules()
    assert "dispatch-once:vendors>gl>invoices>payments" in first["queued"]
    assert not any(q.startswith("dispatch-once:") for q in second["queued"])
    assert "dispatch-once" in second["in_flight"]
    assert len(_drain_queue(fresh_stack, fresh_stack.settings().vendors_queue_url)) == 1
