"""The whole system for end-to-end tests: the session's local stack, a live agent and AvidXchange simulator over
HTTPS, and one customer configured as an operator would (customer item + secret), run stage by stage."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from avid_sim.testing import RunningAvid, running_avid
from ml_cli.dead_letters import ReplaySelection, peek_dead_letters
from ml_cli.dead_letters import replay_dead_letters as replay_from_dlq
from ml_connector.customers import Customer, customer_to_item
from ml_connector.kinds import Stage
from ml_connector.messages import WorkOrder
from ml_connector.state.dynamodb import DynamoStateStore
from ml_connector.state.models import AuditEntry, RunCounts, StageRun
from ml_local.driver import DeliveryReport
from ml_local.session import LocalStack
from sage_agent.testing import RunningAgent, running_agent

AGENT_KEY = "e2e-agent-key-0123456789"


@dataclass
class ConnectedCustomer:
    stack: LocalStack
    agent: RunningAgent
    avid: RunningAvid
    customer: Customer

    @property
    def customer_id(self) -> str:
        return self.customer.customer_id

    @property
    def state(self) -> DynamoStateStore:
        return self.stack.state_store()

    def run(self, stage: Stage, *, cycle_id: str = "e2e") -> StageRun:
        """Queue one work order for the stage, deliver everything until the queues are idle, return the run."""
        self.queue(stage, cycle_id=cycle_id)
        self.stack.driver.drain()
        run = self.state.get_run(self.customer_id, stage)
        assert run is not None, f"{stage} never ran"
        return run

    def queue(self, stage: Stage, *, cycle_id: str = "e2e", then: tuple[Stage, ...] = ()) -> None:
        order = WorkOrder(customer_id=self.customer_id, stage=stage, cycle_id=cycle_id, then=then)
        self.stack.aws.client("sqs").send_message(
            QueueUrl=self.stack.settings().work_queue_url(stage),
            MessageBody=order.model_dump_json(),
            MessageGroupId=self.customer_id,
            MessageDeduplicationId=f"{order.deduplication_id}:{id(order)}",
        )

    def update_customer(self, **changes: Any) -> None:
        """Rewrite the customer item, as an operator editing it would."""
        self.customer = self.customer.model_copy(update=changes)
        self.stack.aws.resource("dynamodb").Table(self.stack.settings().customers_table).put_item(
            Item=customer_to_item(self.customer)
        )

    def drain(self) -> DeliveryReport:
        return self.stack.driver.drain()

    def counts(self, stage: Stage) -> RunCounts:
        run = self.state.get_run(self.customer_id, stage)
        assert run is not None
        return run.counts

    def audit(self, kind: str, key: str) -> list[AuditEntry]:
        return self.state.list_audit(self.customer_id, kind, key)


def configure_customer(
    stack: LocalStack,
    agent: RunningAgent,
    avid: RunningAvid,
    customer_id: str,
    *,
    agent_page_size: int = 500,
    **overrides: Any,
) -> Customer:
    """Store the secret (KMS-encrypted) and the customer item, as the operator CLI does."""
    settings = stack.settings()
    secret = stack.aws.client("secretsmanager").create_secret(
        Name=f"{settings.secret_prefix}{customer_id}",
        KmsKeyId=settings.connector_key_arn,
        Tags=[{"Key": "customer_id", "Value": customer_id}],
        SecretString=json.dumps(
            {"agent_key": AGENT_KEY, "avid_company_token": avid.company_token, "avid_user_token": avid.user_token}
        ),
    )
    item: dict[str, Any] = {
        "customer_id": customer_id,
        "display_name": "Redrock Construction Co.",
        "agent": {
            "base_url": agent.url,
            "company": agent.company,
            "tls": {"mode": "pinned", "fingerprint_sha256": agent.certificate.fingerprint_sha256},
            "page_size": agent_page_size,
        },
        "avid": {"base_url": avid.url, "ca_bundle_pem": avid.certificate.cert_path.read_text()},
        "secret_arn": secret["ARN"],
        "invoice_start_date": "2020-01-01",
        "bank_code": "A",
        "cost_center_segment": 3,
        **overrides,
    }
    customer = Customer.model_validate(item)
    stack.aws.resource("dynamodb").Table(settings.customers_table).put_item(Item=customer_to_item(customer))
    return customer


@contextmanager
def connected_customer(
    stack: LocalStack, tmp_path: Path, customer_id: str, *, seed: str = "demo", **overrides: Any
) -> Iterator[ConnectedCustomer]:
    with (
        running_agent(tmp_path, seed=seed, agent_key=AGENT_KEY) as agent,  # type: ignore[arg-type]
        running_avid(tmp_path) as avid,
    ):
        customer = configure_customer(stack, agent, avid, customer_id, **overrides)
        yield ConnectedCustomer(stack, agent, avid, customer)


def customer_id_for(request: pytest.FixtureRequest, prefix: str) -> str:
    """A customer id of this test's own (so a test runs alone and in any order on a shared stack)."""
    digest = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:10]
    return f"{prefix}-{digest}"


def dead_letters(stack: LocalStack) -> list[dict[str, Any]]:
    """The record DLQ's message bodies, left in place (what `mlc dlq` lists)."""
    sqs = stack.aws.client("sqs")
    return [
        json.loads(d.body)
        for d in peek_dead_letters(sqs, stack.stack.outputs["RecordDeadLetterQueueUrl"], wait_seconds=0)
    ]


def replay_dead_letters(stack: LocalStack, customer_id: str, kind: str, source_key: str) -> int:
    """Move one record's messages from the record DLQ back to the retry queue, as `mlc replay --record` does."""
    outcome = replay_from_dlq(
        stack.aws.client("sqs"),
        dlq_url=stack.stack.outputs["RecordDeadLetterQueueUrl"],
        target_url=stack.stack.outputs["RetryQueueUrl"],
        selection=ReplaySelection(customer_id=customer_id, kind=kind, source_key=source_key),
        wait_seconds=0,
    )
    return outcome.moved
