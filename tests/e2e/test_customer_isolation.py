"""One customer's failure (rejected key, agent offline) pauses that customer only, says why, and writes none of
its secrets where anyone (the other customer, its operator) can read them: logs, state items (audit trails and
failures included), queue messages."""

from __future__ import annotations

import json
from pathlib import Path

from ml_connector.kinds import Stage
from ml_connector.state.models import HealthStatus, RunState
from ml_local.session import LocalStack
from sage_agent.serving import free_port
from tests.chaos.scenarios import _everything_written
from tests.chaos.truth import find_secrets
from tests.support.system import AGENT_KEY, ConnectedCustomer, configure_customer, connected_customer


def test_a_rejected_agent_key_pauses_only_that_customer(stack: LocalStack, tmp_path: Path) -> None:
    with connected_customer(stack, tmp_path, "iso-good", seed="empty") as good:
        bad = ConnectedCustomer(
            stack, good.agent, good.avid, configure_customer(stack, good.agent, good.avid, "iso-badkey")
        )
        bad_secret = {
            "agent_key": "wrong-key-" + "x" * 20,
            "avid_company_token": "bad-company-token-0123",
            "avid_user_token": "bad-user-token-4567",
        }
        stack.aws.client("secretsmanager").put_secret_value(
            SecretId=bad.customer.secret_arn, SecretString=json.dumps(bad_secret)
        )
        good.queue(Stage.VENDORS)
        bad.queue(Stage.VENDORS, then=(Stage.GL, Stage.INVOICES))
        good.drain()

        good_run = good.state.get_run("iso-good", Stage.VENDORS)
        assert good_run is not None and good_run.state is RunState.SUCCEEDED
        for stage in (Stage.VENDORS, Stage.GL, Stage.INVOICES):
            run = good.state.get_run("iso-badkey", stage)
            assert run is not None and run.state is RunState.CUSTOMER_UNAVAILABLE, stage
        health = good.state.get_health("iso-badkey")
        assert health is not None and health.status is HealthStatus.AGENT_CREDENTIALS_REJECTED
        assert health.retry_at is not None and health.retry_at > health.since
        secrets = [*bad_secret.values(), AGENT_KEY, good.avid.company_token, good.avid.user_token]
        assert find_secrets([("health reason", health.reason)], secrets) == []

        (cycle,) = stack.driver.fire_schedules()
        assert "iso-badkey" in cycle["paused"]
        assert not any(q.startswith("iso-badkey:") for q in cycle["queued"])
        assert _written_anywhere(stack, secrets) == []
        _empty_work_queues(stack)


def test_an_agent_that_is_offline_pauses_the_customer_with_growing_back_off(stack: LocalStack, tmp_path: Path) -> None:
    with connected_customer(stack, tmp_path, "iso-offline", seed="empty") as system:
        system.update_customer(
            agent=system.customer.agent.model_copy(update={"base_url": f"https://127.0.0.1:{free_port()}"})
        )
        system.run(Stage.VENDORS, cycle_id="off-1")
        first = system.state.get_health("iso-offline")
        system.run(Stage.VENDORS, cycle_id="off-2")
        second = system.state.get_health("iso-offline")
        assert _written_anywhere(stack, [AGENT_KEY, system.avid.company_token, system.avid.user_token]) == []
    assert first is not None and second is not None
    assert first.status is second.status is HealthStatus.AGENT_OFFLINE
    assert second.consecutive_failures == first.consecutive_failures + 1
    assert first.retry_at is not None and second.retry_at is not None
    assert second.retry_at - second.since > first.retry_at - first.since


def _written_anywhere(stack: LocalStack, secrets: list[str]) -> list[str]:
    """Where any secret appears in the stack's function logs, state items or queue messages."""
    return find_secrets(_everything_written(stack), secrets)


def _empty_work_queues(stack: LocalStack) -> None:
    sqs = stack.aws.client("sqs")
    for stage in Stage:
        sqs.purge_queue(QueueUrl=stack.settings().work_queue_url(stage))
    sqs.purge_queue(QueueUrl=stack.stack.function("DispatcherFunction").environment["RECONCILE_QUEUE_URL"])
