"""mlc status, failures and audit, over state written with the DynamoStateStore the functions use."""

from __future__ import annotations

import datetime as dt
import json

from ml_cli.deployment import Deployment
from ml_connector.customers import Customer
from ml_connector.kinds import Stage
from ml_connector.state.models import (
    AuditEntry,
    AuditEvent,
    CustomerHealth,
    FailedRecord,
    HealthStatus,
    RunCounts,
    RunState,
)
from tests.cli.conftest import Mlc
from tests.support.customers import customer_item, make_customer


def failure(customer_id: str, key: str, at: dt.datetime, error: str) -> FailedRecord:
    return FailedRecord(
        customer_id=customer_id,
        kind="vendor",
        source_key=key,
        stage=Stage.VENDORS,
        error=error,
        retryable=True,
        attempts=1,
        first_failed_at=at,
        last_failed_at=at,
    )


def test_status_shows_health_last_runs_lag_and_open_failures(
    mlc: Mlc, deployment: Deployment, customer_id: str
) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    deployment.customers().put(Customer.model_validate(customer_item(customer_id)))
    state = deployment.state()
    state.mark_running(customer_id, Stage.VENDORS, "c1", now - dt.timedelta(hours=2))
    state.mark_finished(
        customer_id,
        Stage.VENDORS,
        RunState.SUCCEEDED,
        RunCounts(read=7, synced=5, unchanged=2),
        now - dt.timedelta(hours=2),
        cycle_id="c1",
    )
    state.mark_running(customer_id, Stage.GL, "c1", now - dt.timedelta(minutes=5))
    state.mark_finished(
        customer_id,
        Stage.GL,
        RunState.CUSTOMER_UNAVAILABLE,
        RunCounts(),
        now - dt.timedelta(minutes=5),
        "agent offline",
        cycle_id="c1",
    )
    state.put_health(
        CustomerHealth(
            customer_id=customer_id,
            status=HealthStatus.AGENT_OFFLINE,
            reason="agent at https://sage.example:8443 did not answer",
            since=now - dt.timedelta(minutes=5),
            retry_at=now + dt.timedelta(minutes=10),
            consecutive_failures=1,
        )
    )
    state.record_failure(failure(customer_id, "V1", now, "vendor V1 refused"))

    as_json = mlc("status", customer_id, "--json")
    text = mlc("status", customer_id)

    assert as_json.code == 0, as_json.err
    (status,) = json.loads(as_json.out)
    assert status["paused"] is True
    assert status["health"]["status"] == "agent_offline"
    assert status["open_failures"] == 1
    stages = {s["stage"]: s for s in status["stages"]}
    assert stages["vendors"]["state"] == "succeeded"
    assert stages["vendors"]["counts"]["synced"] == 5
    assert 7100 <= stages["vendors"]["lag_seconds"] <= 7300
    assert stages["gl"]["state"] == "customer_unavailable"
    assert stages["gl"]["lag_seconds"] is None
    assert stages["invoices"]["state"] is None
    assert text.code == 0
    assert "PAUSED agent_offline" in text.out
    assert "open failures: 1" in text.out
    vendors_line = next(line for line in text.out.splitlines() if line.strip().startswith("vendors"))
    assert "succeeded" in vendors_line
    assert "2h00m" in vendors_line or "1h59m" in vendors_line
    gl_line = next(line for line in text.out.splitlines() if line.strip().startswith("gl"))
    assert "agent offline" in gl_line
    assert "never" in gl_line


def test_status_of_all_customers_includes_invalid_ones(mlc: Mlc, deployment: Deployment, customer_id: str) -> None:
    deployment.resource("dynamodb").Table(deployment.customers_table).put_item(
        Item=customer_item(customer_id, settle_on="Whenever")
    )

    result = mlc("status", "--json")

    assert result.code == 0, result.err
    mine = next(s for s in json.loads(result.out) if s["customer_id"] == customer_id)
    assert mine["problems"]
    assert mine["problems"][0].startswith("settle_on:")
    assert mine["paused"] is False


def test_failures_lists_the_most_recent_first_and_honours_the_limit(
    mlc: Mlc, deployment: Deployment, customer_id: str
) -> None:
    deployment.customers().put(make_customer(customer_id))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    state = deployment.state()
    state.record_failure(failure(customer_id, "OLD", now - dt.timedelta(hours=1), "older problem"))
    state.record_failure(failure(customer_id, "NEW", now, "newer problem"))
    state.record_failure(failure(customer_id, "NEW", now + dt.timedelta(seconds=1), "newer problem again"))

    limited = mlc("failures", customer_id, "--limit", "1")
    everything = mlc("failures", customer_id, "--json")

    assert limited.code == 0, limited.err
    rows = [line for line in limited.out.splitlines() if line.startswith(customer_id)]
    assert len(rows) == 1
    assert " NEW " in rows[0]
    assert "newer problem again" in rows[0]
    assert "(1 more; raise --limit)" in limited.out
    listed = json.loads(everything.out)
    assert [f["source_key"] for f in listed] == ["NEW", "OLD"]
    assert listed[0]["attempts"] == 2


def test_failures_limit_must_be_positive(mlc: Mlc) -> None:
    result = mlc("failures", "--limit", "0")

    assert result.code == 2
    assert "--limit" in result.err


def test_audit_prints_the_trail_in_time_order_with_sealed_payloads_hidden(
    mlc: Mlc, deployment: Deployment, customer_id: str
) -> None:
    deployment.customers().put(make_customer(customer_id))
    start = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)

    def entry(minutes: int, event: AuditEvent, **fields: object) -> AuditEntry:
        return AuditEntry.model_validate(
            {
                "customer_id": customer_id,
                "kind": "vendor",
                "source_key": "01-ACME",
                "event": event,
                "at": start + dt.timedelta(minutes=minutes),
                **fields,
            }
        )

    deployment.state().append_audit(
        [
            entry(2, AuditEvent.PUSHED, remote_id="V-77", detail="created"),
            entry(0, AuditEvent.READ, sealed_payload={"ciphertext": "c2VjcmV0LWJhbmstYWNjb3VudA==", "key": "k"}),
            entry(1, AuditEvent.TRANSFORMED, detail="mapped"),
        ]
    )

    text = mlc("audit", customer_id, "vendor", "01-ACME")
    as_json = mlc("audit", customer_id, "vendor", "01-ACME", "--json")

    assert text.code == 0, text.err
    events = [line.split()[2] for line in text.out.splitlines()[1:]]
    assert events == ["read", "transformed", "pushed"]
    assert "[encrypted]" in text.out
    assert "c2VjcmV0" not in text.out + as_json.out
    trail = json.loads(as_json.out)
    assert [e["event"] for e in trail] == ["read", "transformed", "pushed"]
    assert trail[0]["sealed_payload"] == "[encrypted]"
    assert trail[2]["remote_id"] == "V-77"
