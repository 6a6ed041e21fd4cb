"""The stage runner: how one work order's run is recorded, and what it queues next, on in-memory fakes.

The stage functions here are stand-ins returning a chosen result: the stages themselves are tested elsewhere.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from ml_connector.customers import Customer, InvalidCustomer, parse_customer_item
from ml_connector.errors import AgentAuthFailed, AgentOffline, AvidAuthFailed, CustomerUnavailable, RetryLater
from ml_connector.kinds import RecordKind, Stage
from ml_connector.messages import RecordRetry, WorkOrder
from ml_connector.stages.context import StageContext, TimeBudget
from ml_connector.stages.parking import park
from ml_connector.stages.result import StageResult
from ml_connector.stages.runner import RunOutcome, StageFunction, StageRunner
from ml_connector.state.models import CustomerHealth, HealthStatus, RunCounts, RunState
from tests.fakes import FakeCustomerDirectory, FakeRetryQueue, FakeStateStore, FakeWorkQueue, Systems
from tests.support.customers import UTC_NOON, customer_item, make_customer

CUSTOMER = "acme-build"
ORDER = WorkOrder(customer_id=CUSTOMER, stage=Stage.GL, cycle_id="c", then=(Stage.INVOICES, Stage.PAYMENTS))


@dataclass
class Deployment:
    """A runner over fakes; ``unreachable`` is what opening the customer's systems raises, if anything."""

    customers: FakeCustomerDirectory = field(default_factory=lambda: FakeCustomerDirectory([make_customer(CUSTOMER)]))
    state: FakeStateStore = field(default_factory=FakeStateStore)
    work: FakeWorkQueue = field(default_factory=FakeWorkQueue)
    retries: FakeRetryQueue = field(default_factory=FakeRetryQueue)
    unreachable: CustomerUnavailable | None = None

    @contextlib.contextmanager
    def open_context(self, customer: Customer, budget: TimeBudget) -> Iterator[StageContext]:
        if self.unreachable is not None:
            raise self.unreachable
        yield Systems(customer=customer, state=self.state, retries=self.retries, now=UTC_NOON).context(budget=budget)

    def run(self, order: WorkOrder, sync: StageFunction) -> RunOutcome:
        runner = StageRunner(self.customers, self.state, self.work, self.retries, self.open_context, lambda: UTC_NOON)
        return runner.run(order, sync, TimeBudget.for_seconds(600))

    def recorded(self, stage: Stage) -> tuple[RunState, RunCounts, str | None]:
        run = self.state.get_run(CUSTOMER, stage)
        assert run is not None, f"no run recorded for {stage}"
        return run.state, run.counts, run.message

    def archived(self) -> list[tuple[Stage, RunState]]:
        return [(run.stage, run.state) for run in self.state.run_history]


def returning(complete: bool = True, **counts: int) -> StageFunction:
    def sync(ctx: StageContext) -> StageResult:
        return StageResult(complete, RunCounts(**counts))

    return sync


def raising(error: Exception) -> StageFunction:
    def sync(ctx: StageContext) -> StageResult:
        raise error

    return sync


@pytest.fixture
def deployment() -> Deployment:
    return Deployment()


# -- the customer item -----------------------------------------------------------------------------------------------


def test_a_customer_whose_item_is_invalid_is_recorded_failed_and_the_order_is_done(deployment: Deployment) -> None:
    bad = parse_customer_item(customer_item(CUSTOMER, bank_code="AB"))
    assert isinstance(bad, InvalidCustomer)
    deployment.customers = FakeCustomerDirectory([], [bad])

    outcome = deployment.run(ORDER, returning(synced=1))  # not raised: running it again would not help

    assert outcome == RunOutcome(RunState.FAILED, RunCounts())
    assert deployment.recorded(Stage.GL) == (RunState.FAILED, RunCounts(), bad.describe())
    assert deployment.work.sent == []
    assert deployment.archived() == [(Stage.GL, RunState.FAILED)]


def test_a_customer_without_an_item_is_recorded_failed(deployment: Deployment) -> None:
    deployment.customers = FakeCustomerDirectory()

    assert deployment.run(ORDER, returning(synced=1)).state is RunState.FAILED
    assert deployment.recorded(Stage.GL)[2] == f"customer {CUSTOMER} has no customer item"
    assert deployment.work.sent == []


# -- a customer that cannot be reached -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (AgentOffline("agent unreachable"), HealthStatus.AGENT_OFFLINE),
        (AgentAuthFailed("agent key refused (401)"), HealthStatus.AGENT_CREDENTIALS_REJECTED),
        (AvidAuthFailed("tokens refused (401)"), HealthStatus.AVID_CREDENTIALS_REJECTED),
    ],
    ids=["agent offline", "agent key refused", "avid tokens refused"],
)
@pytest.mark.parametrize("where", ["opening its systems", "during the stage"])
def test_an_unreachable_customer_is_paused_and_the_rest_of_its_cycle_released(
    deployment: Deployment, error: CustomerUnavailable, status: HealthStatus, where: str
) -> None:
    sync = returning(synced=1)
    if where == "opening its systems":
        deployment.unreachable = error
    else:
        sync = raising(error)

    outcome = deployment.run(ORDER, sync)  # not raised: the dispatcher queues the customer once its pause ends

    assert outcome == RunOutcome(RunState.CUSTOMER_UNAVAILABLE, RunCounts())
    health = deployment.state.get_health(CUSTOMER)
    assert health is not None and health.status is status and health.reason == str(error)
    assert health.retry_at is not None and health.retry_at > UTC_NOON
    for stage in (Stage.GL, Stage.INVOICES, Stage.PAYMENTS):
        assert deployment.recorded(stage) == (RunState.CUSTOMER_UNAVAILABLE, RunCounts(), str(error))
    assert deployment.state.get_run(CUSTOMER, Stage.VENDORS) is None, "stages before this one are left alone"
    assert deployment.work.sent == []


# -- what a run queues next ------------------------------------------------------------------------------------------


def test_a_run_out_of_time_records_its_counts_and_queues_its_continuation(deployment: Deployment) -> None:
    outcome = deployment.run(ORDER, returning(complete=False, read=5, synced=4, unchanged=1))

    counts = RunCounts(read=5, synced=4, unchanged=1)
    assert outcome == RunOutcome(RunState.CONTINUING, counts)
    assert deployment.recorded(Stage.GL) == (RunState.CONTINUING, counts, "time budget spent; continuing")
    assert deployment.work.sent == [ORDER.continued()]
    assert deployment.archived() == [], "a run is kept once, when it ends"


def test_a_continuation_reports_the_whole_runs_counts(deployment: Deployment) -> None:
    deployment.run(ORDER, returning(complete=False, read=5, synced=4, unchanged=1))
    deployment.run(ORDER.continued(), returning(complete=False, read=3, synced=2, failed=1))
    outcome = deployment.run(ORDER.continued().continued(), returning(read=2, synced=2))

    whole = RunCounts(read=10, synced=8, unchanged=1, failed=1)
    assert outcome == RunOutcome(RunState.PARTIAL, whole)
    assert deployment.work.sent == [ORDER.continued(), ORDER.continued().continued(), ORDER.next_in_cycle()]
    assert [(run.state, run.counts) for run in deployment.state.run_history] == [(RunState.PARTIAL, whole)]


def test_a_first_order_counts_afresh_whatever_the_last_run_counted(deployment: Deployment) -> None:
    deployment.run(ORDER, returning(read=7, synced=7))
    assert deployment.run(ORDER, returning(read=1, synced=1)).counts == RunCounts(read=1, synced=1)


@pytest.mark.parametrize(
    ("order", "queued"),
    [
        (ORDER, [WorkOrder(customer_id=CUSTOMER, stage=Stage.INVOICES, cycle_id="c", then=(Stage.PAYMENTS,))]),
        (WorkOrder(customer_id=CUSTOMER, stage=Stage.PAYMENTS, cycle_id="c"), []),
    ],
    ids=["next stage of the cycle", "last stage of the cycle"],
)
def test_a_complete_run_queues_the_next_stage_of_its_cycle(
    deployment: Deployment, order: WorkOrder, queued: list[WorkOrder]
) -> None:
    deployment.run(order, returning(read=1, synced=1))
    assert deployment.work.sent == queued


@pytest.mark.parametrize(
    ("counts", "errors", "state", "message"),
    [
        ({"read": 3, "synced": 2, "skipped": 1}, (), RunState.SUCCEEDED, ""),
        ({"read": 1, "unchanged": 1}, (), RunState.SUCCEEDED, ""),
        ({"read": 2, "synced": 1, "failed": 1}, ("vendor 01-X: refused",), RunState.PARTIAL, "vendor 01-X: refused"),
        ({"read": 1, "waiting": 1}, (), RunState.PARTIAL, ""),
        (
            {"read": 3, "failed": 3},
            ("invoice 1: a", "invoice 2: b", "invoice 3: c"),
            RunState.PARTIAL,
            "invoice 1: a (and 2 more)",
        ),
    ],
    ids=["synced", "unchanged", "failed", "waiting", "three failed"],
)
def test_a_run_with_failed_or_waiting_records_is_partial(
    deployment: Deployment, counts: dict[str, int], errors: tuple[str, ...], state: RunState, message: str
) -> None:
    assert deployment.run(ORDER, lambda ctx: StageResult(True, RunCounts(**counts), errors)).state is state
    assert deployment.recorded(Stage.GL) == (state, RunCounts(**counts), message)
    assert deployment.archived() == [(Stage.GL, state)]
    assert deployment.work.sent == [ORDER.next_in_cycle()], "records that failed do not hold the cycle up"


def test_a_stage_that_breaks_is_recorded_failed_and_delivered_again(deployment: Deployment) -> None:
    with pytest.raises(KeyError):
        deployment.run(ORDER, raising(KeyError("Segments")))

    assert deployment.recorded(Stage.GL) == (
        RunState.FAILED,
        RunCounts(),
        "KeyError: 'Segments'; the run will be retried",
    )
    assert deployment.work.sent == []


def test_a_passing_failure_of_the_whole_run_is_delivered_again(deployment: Deployment) -> None:
    with pytest.raises(RetryLater):
        deployment.run(ORDER, raising(RetryLater("agent busy (503)")))

    assert deployment.recorded(Stage.GL)[0] is RunState.FAILED
    assert deployment.state.get_health(CUSTOMER) is None, "a passing failure does not pause the customer"


# -- back from a pause -----------------------------------------------------------------------------------------------


def test_a_customer_back_from_a_pause_is_healthy_and_its_parked_records_are_queued_again(
    deployment: Deployment,
) -> None:
    deployment.state.put_health(
        CustomerHealth(
            customer_id=CUSTOMER,
            status=HealthStatus.AGENT_OFFLINE,
            since=UTC_NOON - dt.timedelta(hours=1),
            retry_at=UTC_NOON - dt.timedelta(minutes=1),
            consecutive_failures=3,
        )
    )
    for key in ("01-ACME/1", "01-ACME/2"):
        park(
            deployment.state,
            RecordRetry(
                customer_id=CUSTOMER, stage=Stage.INVOICES, kind=RecordKind.INVOICE, source_key=key, reason="offline",
                first_failed_at=UTC_NOON - dt.timedelta(hours=1),
            ),
        )  # fmt: skip

    deployment.run(ORDER, returning(read=1, synced=1))

    health = deployment.state.get_health(CUSTOMER)
    assert health is not None and (health.status, health.since) == (HealthStatus.OK, UTC_NOON)
    assert sorted((r.source_key, r.first_failed_at) for r in deployment.retries.sent) == [
        ("01-ACME/1", UTC_NOON),
        ("01-ACME/2", UTC_NOON),
    ]
    assert not any(f.parked for f in deployment.state.list_failures(CUSTOMER))


@pytest.mark.parametrize("health", [None, HealthStatus.OK], ids=["never paused", "healthy"])
def test_a_healthy_customers_run_queues_no_retries(deployment: Deployment, health: HealthStatus | None) -> None:
    if health is not None:
        deployment.state.put_health(CustomerHealth(customer_id=CUSTOMER, status=health, since=UTC_NOON))
    park(
        deployment.state,
        RecordRetry(
            customer_id=CUSTOMER, stage=Stage.INVOICES, kind=RecordKind.INVOICE, source_key="01-ACME/1",
            reason="offline", first_failed_at=UTC_NOON,
        ),
    )  # fmt: skip

    deployment.run(ORDER, returning(read=1, synced=1))

    assert deployment.retries.sent == []
    assert deployment.state.get_health(CUSTOMER) == (
        None if health is None else CustomerHealth(customer_id=CUSTOMER, status=health, since=UTC_NOON)
    )
