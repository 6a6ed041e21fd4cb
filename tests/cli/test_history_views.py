"""mlc runs, mlc records and mlc failures --by-reason against the local stack's state table."""

from __future__ import annotations

import datetime as dt
import json

from ml_cli.deployment import Deployment
from ml_connector.kinds import Stage
from ml_connector.state.history import SkippedRecord
from ml_connector.state.models import FailedRecord, KeyMapping, MappingState, RunCounts, RunState
from tests.cli.conftest import Mlc
from tests.support.customers import make_customer

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def finish_run(
    deployment: Deployment, customer_id: str, stage: Stage, cycle: str, at: dt.datetime, synced: int
) -> None:
    state = deployment.state()
    state.mark_running(customer_id, stage, cycle, at - dt.timedelta(minutes=2))
    state.mark_finished(customer_id, stage, RunState.SUCCEEDED, RunCounts(synced=synced), at, None, cycle_id=cycle)
    state.archive_run(customer_id, stage)


def test_runs_lists_every_kept_run_newest_first(mlc: Mlc, deployment: Deployment, customer_id: str) -> None:
    deployment.customers().put(make_customer(customer_id))
    finish_run(deployment, customer_id, Stage.VENDORS, "cycle-1", NOW - dt.timedelta(hours=2), 4)
    finish_run(deployment, customer_id, Stage.VENDORS, "cycle-2", NOW - dt.timedelta(hours=1), 1)
    finish_run(deployment, customer_id, Stage.INVOICES, "cycle-2", NOW, 7)

    everything = mlc("runs", customer_id, "--json")
    vendors = mlc("runs", customer_id, "--stage", "vendors")

    assert everything.code == 0, everything.err
    listed = json.loads(everything.out)
    assert [(r["stage"], r["cycle_id"], r["counts"]["synced"]) for r in listed] == [
        ("invoices", "cycle-2", 7),
        ("vendors", "cycle-2", 1),
        ("vendors", "cycle-1", 4),
    ]
    assert vendors.code == 0, vendors.err
    rows = [line for line in vendors.out.splitlines()[1:] if line.strip()]
    assert len(rows) == 2 and "cycle-2" in rows[0] and "2m" in rows[0]


def test_records_lists_by_state_with_remote_ids_and_reasons(mlc: Mlc, deployment: Deployment, customer_id: str) -> None:
    deployment.customers().put(make_customer(customer_id))
    state = deployment.state()
    for key, remote_id, synced_at in (("01-ACME", "V-1001", NOW), ("01-OLD", "V-0001", NOW - dt.timedelta(days=3))):
        state.put_mapping(
            KeyMapping(customer_id=customer_id, kind="vendor", source_key=key, state=MappingState.SYNCED,
                       remote_id=remote_id, synced_at=synced_at)
        )  # fmt: skip
    base = {
        "customer_id": customer_id,
        "kind": "vendor",
        "stage": Stage.VENDORS,
        "attempts": 1,
        "first_failed_at": NOW,
        "last_failed_at": NOW,
    }
    refused = FailedRecord(**base, source_key="01-BAD", error="refused (422); fix the name", retryable=False)
    held = FailedRecord(
        **base, source_key="01-HOLD", error="waiting: on hold", retryable=True, blocked_by="vendor:01-HOLD"
    )
    state.record_failure(refused)
    state.record_failure(held)
    state.put_skipped(
        [
            SkippedRecord(
                customer_id=customer_id,
                kind="vendor",
                source_key="01-TEMP",
                stage=Stage.VENDORS,
                reason="temporary vendor",
                at=NOW,
            )
        ]
    )

    every = json.loads(mlc("records", customer_id, "vendor", "--json").out)
    synced_lately = mlc("records", customer_id, "vendor", "--state", "synced", "--since", "1d")
    waiting = mlc("records", customer_id, "vendor", "--state", "waiting")
    bad_since = mlc("records", customer_id, "vendor", "--since", "yesterday")

    assert {(r["state"], r["source_key"], r["remote_id"]) for r in every} == {
        ("synced", "01-ACME", "V-1001"),
        ("synced", "01-OLD", "V-0001"),
        ("failed", "01-BAD", None),
        ("waiting", "01-HOLD", None),
        ("skipped", "01-TEMP", None),
    }
    assert "fix the name" in next(r["detail"] for r in every if r["source_key"] == "01-BAD")
    assert synced_lately.code == 0 and "V-1001" in synced_lately.out and "01-OLD" not in synced_lately.out
    assert "01-HOLD" in waiting.out and "01-BAD" not in waiting.out and "vendor:01-HOLD" in waiting.out
    assert bad_since.code == 2 and "30m, 6h, 2d" in bad_since.err


def test_failures_by_reason_counts_each_cause_once_with_its_fix(
    mlc: Mlc, deployment: Deployment, customer_id: str
) -> None:
    deployment.customers().put(make_customer(customer_id))
    state = deployment.state()
    for key, account in (("01-A/1", "6100-02-300"), ("01-B/2", "7000-01-100")):
        state.record_failure(
            FailedRecord(
                customer_id=customer_id,
                kind="invoice",
                source_key=key,
                stage=Stage.INVOICES,
                error=f"invoice {key}: GL account {account} is not active; run the gl stage",
                retryable=False,
                attempts=1,
                first_failed_at=NOW,
                last_failed_at=NOW,
            )
        )

    groups = mlc("failures", customer_id, "--by-reason", "--json")
    text = mlc("failures", customer_id)

    assert groups.code == 0, groups.err
    (group,) = json.loads(groups.out)
    assert (group["count"], group["reason"], group["fix"]) == (
        2,
        "GL account # is not active; run the gl stage",
        "run the gl stage",
    )
    assert text.out.splitlines()[1].startswith("2 ")
    assert sum(line.startswith(customer_id) for line in text.out.splitlines()) == 2
