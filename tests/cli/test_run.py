"""mlc run: one work order on the stage's FIFO queue, grouped by customer."""

from __future__ import annotations

import json

from ml_cli.deployment import Deployment
from ml_connector.customers import Customer
from ml_connector.kinds import Stage
from ml_connector.messages import WorkOrder
from tests.cli.conftest import Mlc
from tests.support.customers import customer_item


def test_run_queues_one_work_order_on_the_stages_fifo_queue(
    mlc: Mlc, deployment: Deployment, customer_id: str, queue_cleanup: set[str]
) -> None:
    queue_cleanup.add(customer_id)
    deployment.customers().put(Customer.model_validate(customer_item(customer_id)))

    result = mlc("run", customer_id, "invoices", "--json")

    assert result.code == 0, result.err
    queued = json.loads(result.out)
    assert queued["queue_url"] == deployment.work_queue_url(Stage.INVOICES)
    sqs = deployment.client("sqs")
    found = []
    for _ in range(20):
        messages = sqs.receive_message(
            QueueUrl=queued["queue_url"],
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageSystemAttributeNames=["MessageGroupId"],
        ).get("Messages", [])
        found = [m for m in messages if m["Attributes"]["MessageGroupId"] == customer_id]
        if found or not messages:
            break
    assert len(found) == 1
    order = WorkOrder.model_validate_json(found[0]["Body"])
    assert order == WorkOrder(customer_id=customer_id, stage=Stage.INVOICES, cycle_id=queued["cycle_id"])


def test_run_of_an_unknown_customer_fails_and_queues_nothing(mlc: Mlc, customer_id: str) -> None:
    result = mlc("run", customer_id, "vendors")

    assert result.code == 1
    assert f"no customer {customer_id}" in result.err


def test_run_of_an_unknown_stage_is_bad_input(mlc: Mlc, customer_id: str) -> None:
    result = mlc("run", customer_id, "ledger")

    assert result.code == 2
    assert len(result.err.splitlines()) == 1
    assert "ledger" in result.err
