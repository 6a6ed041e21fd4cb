"""Run history, skipped records and the failure guide, against the in-memory state store."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from ml_connector.customers import Customer
from ml_connector.failure_guide import failure_kind, failure_reason, group_failures, suggested_fix
from ml_connector.kinds import Stage
from ml_connector.messages import WorkOrder
from ml_connector.stages.context import StageContext, TimeBudget
from ml_connector.stages.ledger import RecordLedger
from ml_connector.stages.result import StageResult
from ml_connector.stages.runner import StageRunner
from ml_connector.state.models import FailedRecord, RunCounts, RunState
from tests.fakes import FakeCustomerDirectory, FakeRetryQueue, FakeStateStore, Systems
from tests.support.customers import UTC_NOON, make_customer


class Orders:
    def __init__(self) -> None:
        self.sent: list[WorkOrder] = []

    def send(self, orders: Any) -> None:
        self.sent += orders


def test_a_run_is_kept_once_when_it_ends_with_the_counts_of_all_its_parts() -> None:
    results = iter([StageResult(False, RunCounts(synced=2)), StageResult(True, RunCounts(synced=3, failed=1), ("x",))])
    state, orders = FakeStateStore(), Orders()

    @contextlib.contextmanager
    def no_systems(customer: Customer, budget: TimeBudget) -> Iterator[StageContext]:
        yield None  # type: ignore[misc]

    runner = StageRunner(
        FakeCustomerDirectory([make_customer("acme-build")]),
        state,
        orders,
        FakeRetryQueue(),
        no_systems,
        lambda: UTC_NOON,
    )
    order = WorkOrder(customer_id="acme-build", stage=Stage.VENDORS, cycle_id="cycle-7")
    runner.run(order, lambda ctx: next(results), TimeBudget.for_seconds(60))
    assert state.recent_runs("acme-build", Stage.VENDORS, 10) == [], "a continuing run is not kept yet"
    runner.run(orders.sent[0], lambda ctx: next(results), TimeBudget.for_seconds(60))

    (kept,) = state.recent_runs("acme-build", Stage.VENDORS, 10)
    assert (kept.state, kept.cycle_id, kept.counts.synced, kept.counts.failed) == (RunState.PARTIAL, "cycle-7", 5, 1)
    assert kept.message == "x"


class CountingState(FakeStateStore):
    def __init__(self) -> None:
        super().__init__()
        self.skip_writes = 0

    def put_skipped(self, records: Any) -> None:
        self.skip_writes += 1
        super().put_skipped(records)


def test_skipped_records_are_kept_with_their_reason_in_one_write_per_page() -> None:
    systems = Systems(customer=make_customer(), state=CountingState())
    ledger = RecordLedger(systems.context(), Stage.VENDORS)
    for key in ("01-A", "01-B", "01-C"):
        ledger.skipped("vendor", key, "temporary vendor; never sent")
    assert systems.state.list_skipped("acme-build", "vendor") == []

    ledger.flush()
    ledger.flush()

    kept = systems.state.list_skipped("acme-build", "vendor")
    assert sorted(s.source_key for s in kept) == ["01-A", "01-B", "01-C"]
    assert {s.reason for s in kept} == {"temporary vendor; never sent"}
    assert isinstance(systems.state, CountingState) and systems.state.skip_writes == 1


def failure(key: str, error: str, **fields: Any) -> FailedRecord:
    values: dict[str, Any] = {"retryable": False, "attempts": 1, "first_failed_at": UTC_NOON}
    values.update({"last_failed_at": UTC_NOON, **fields})
    return FailedRecord(customer_id="acme-build", kind="invoice", source_key=key, stage=Stage.INVOICES, error=error,
                        **values)  # fmt: skip


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("invoice 01-ACME/10045: GL account 6100-02-300 is inactive", "invoice 02-BOLT/7: GL account 7000 is inactive"),
        ("invoice 01-ACME/1: amount 1,250.00 over the limit 1000", "invoice 01-ACME/2: amount 9.99 over the limit 5"),
        ("payment P-7781234: check 'AX12' posted to 01-ACME", "payment P-1: check 'AX9' posted to 02-ZED"),
    ],
)  # fmt: skip
def test_failures_of_one_cause_have_one_kind_whatever_the_record(first: str, second: str) -> None:
    assert failure_reason(first) == failure_reason(second)
    assert failure_kind(failure("a", first)) == failure_kind(failure("b", second))
    assert failure_kind(failure("a", first)) != failure_kind(failure("a", "invoice 01-A/1: image missing"))


def test_the_fix_is_the_errors_own_advice_or_what_its_state_calls_for() -> None:
    refused = failure("a", "invoice 01-A/1: AvidXchange refused it (422: bad); fix the record and replay it")
    waiting = failure("b", "waiting: vendor 01-A not synced", retryable=True, blocked_by="vendor:01-A")
    passing = failure("c", "invoice 01-A/3: 503 from AvidXchange", retryable=True)

    assert suggested_fix(refused) == "fix the record and replay it"
    assert "vendor:01-A" in suggested_fix(waiting)
    assert "retried" in suggested_fix(passing)


def test_open_failures_group_by_reason_largest_first_with_a_fix() -> None:
    groups = group_failures(
        [
            failure("a", "invoice 01-A/1: image missing; add the image in Sage, then replay"),
            failure("b", "invoice 01-A/2: GL account 6100 is not active; run the gl stage"),
            failure("c", "invoice 01-B/3: GL account 6200 is not active; run the gl stage"),
        ]
    )
    assert [(g.count, g.fix) for g in groups] == [(2, "run the gl stage"), (1, "add the image in Sage, then replay")]
