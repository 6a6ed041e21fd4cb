"""Which stages are due, who is paused or overdue: the dispatcher's decisions against in-memory fakes."""

from __future__ import annotations

import datetime as dt

import pytest

from ml_connector.customers import InvalidCustomer, parse_customer_item
from ml_connector.dispatch import STALE_AFTER, DispatchReport, dispatch_cycle, due_stages, is_overdue, is_paused
from ml_connector.kinds import Stage
from ml_connector.messages import ReviewOrder, WorkOrder
from ml_connector.review_dispatch import ReviewDispatch
from ml_connector.state.history import ReviewTask
from ml_connector.state.models import CustomerHealth, HealthStatus, RunState, StageRun
from tests.fakes import FakeCustomerDirectory, FakeReviewQueue, FakeStateStore, FakeWorkQueue
from tests.support.customers import UTC_NOON, customer_item, make_customer


def run(
    stage: Stage,
    *,
    queued_minutes_ago: int,
    state: RunState = RunState.SUCCEEDED,
    success_minutes_ago: int | None = None,
) -> StageRun:
    return StageRun(
        customer_id="acme-build",
        stage=stage,
        state=state,
        cycle_id="c0",
        updated_at=UTC_NOON - dt.timedelta(minutes=queued_minutes_ago),
        queued_at=UTC_NOON - dt.timedelta(minutes=queued_minutes_ago),
        last_success_at=None if success_minutes_ago is None else UTC_NOON - dt.timedelta(minutes=success_minutes_ago),
    )


@pytest.mark.parametrize(
    ("minutes_since_queued", "expected"),
    [
        ({}, [Stage.VENDORS, Stage.GL, Stage.INVOICES, Stage.PAYMENTS]),
        ({Stage.VENDORS: 30, Stage.GL: 30, Stage.INVOICES: 30, Stage.PAYMENTS: 30}, [Stage.INVOICES, Stage.PAYMENTS]),
        ({Stage.VENDORS: 360, Stage.GL: 359, Stage.INVOICES: 29, Stage.PAYMENTS: 14}, [Stage.VENDORS]),
        ({Stage.VENDORS: 1, Stage.GL: 1, Stage.INVOICES: 30, Stage.PAYMENTS: 1}, [Stage.INVOICES]),
    ],
)
def test_due_stages_follow_each_stage_interval(minutes_since_queued: dict[Stage, int], expected: list[Stage]) -> None:
    customer = make_customer()  # vendors/gl every 360 min, invoices 30, payments 15
    runs = {stage: run(stage, queued_minutes_ago=m) for stage, m in minutes_since_queued.items()}
    assert due_stages(customer, runs, UTC_NOON) == expected


def test_overdue_when_last_success_is_older_than_twice_the_schedule() -> None:
    customer = make_customer()  # invoices every 30 minutes
    fresh = {Stage.INVOICES: run(Stage.INVOICES, queued_minutes_ago=10, success_minutes_ago=60)}
    stale = {Stage.INVOICES: run(Stage.INVOICES, queued_minutes_ago=10, success_minutes_ago=61)}
    assert not is_overdue(customer, fresh, UTC_NOON)
    assert is_overdue(customer, stale, UTC_NOON)


@pytest.mark.parametrize(
    ("state", "queued_minutes_ago", "overdue"),
    [
        (RunState.QUEUED, 60, False),  # first sync under way, within twice the schedule
        (RunState.RUNNING, 61, True),  # first sync still not done after twice the schedule
        (RunState.FAILED, 1, True),  # tried and never succeeded
        (RunState.CUSTOMER_UNAVAILABLE, 1, True),
    ],
)
def test_a_stage_that_never_synced_is_overdue(state: RunState, queued_minutes_ago: int, overdue: bool) -> None:
    runs = {Stage.INVOICES: run(Stage.INVOICES, queued_minutes_ago=queued_minutes_ago, state=state)}
    assert is_overdue(make_customer(), runs, UTC_NOON) is overdue


def test_paused_customers_are_still_counted_overdue_and_unreachable_agents_reported() -> None:
    ledger = FakeStateStore()
    ledger.runs[("acme-build", Stage.PAYMENTS)] = run(Stage.PAYMENTS, queued_minutes_ago=5, state=RunState.FAILED)
    ledger.health["acme-build"] = CustomerHealth(
        customer_id="acme-build",
        status=HealthStatus.AGENT_OFFLINE,
        since=UTC_NOON,
        retry_at=UTC_NOON + dt.timedelta(minutes=10),
    )
    report = dispatch_cycle(
        FakeCustomerDirectory([make_customer()]), ledger, FakeWorkQueue(), now=UTC_NOON, cycle_id="c1"
    )
    assert report.paused == {"acme-build": "agent_offline"}
    assert report.overdue == ["acme-build"]
    assert report.agent_unreachable == ["acme-build"]


def test_paused_only_until_retry_at() -> None:
    offline = CustomerHealth(
        customer_id="acme-build",
        status=HealthStatus.AGENT_OFFLINE,
        since=UTC_NOON - dt.timedelta(minutes=5),
        retry_at=UTC_NOON + dt.timedelta(minutes=1),
    )
    assert is_paused(offline, UTC_NOON)
    assert not is_paused(offline, UTC_NOON + dt.timedelta(minutes=2))
    assert not is_paused(offline.model_copy(update={"status": HealthStatus.OK}), UTC_NOON)
    assert not is_paused(None, UTC_NOON)


def test_a_cycle_queues_one_chained_order_per_customer_and_reports_the_rest() -> None:
    bad = parse_customer_item(customer_item("broken-co", bank_code="AB"))
    assert isinstance(bad, InvalidCustomer)
    paused = make_customer("paused-co")
    ledger = FakeStateStore()
    ledger.health["paused-co"] = CustomerHealth(
        customer_id="paused-co",
        status=HealthStatus.AGENT_CREDENTIALS_REJECTED,
        since=UTC_NOON,
        retry_at=UTC_NOON + STALE_AFTER,
    )
    queue = FakeWorkQueue()
    directory = FakeCustomerDirectory(
        [make_customer("acme-build"), paused, make_customer("off-co", enabled=False)], [bad]
    )

    report = dispatch_cycle(directory, ledger, queue, now=UTC_NOON, cycle_id="cycle-1")

    assert queue.sent == [
        WorkOrder(
            customer_id="acme-build",
            stage=Stage.VENDORS,
            cycle_id="cycle-1",
            then=(Stage.GL, Stage.INVOICES, Stage.PAYMENTS),
        )
    ]
    assert report.paused == {"paused-co": "agent_credentials_rejected"}
    assert [i.describe() for i in report.invalid] == [
        "customer broken-co: bank_code: String should match pattern '^[A-Z0-9]$'"
    ]

    again = dispatch_cycle(directory, ledger, queue, now=UTC_NOON + dt.timedelta(minutes=20), cycle_id="cycle-2")
    assert again.queued == []
    assert again.in_flight == ["acme-build"]

    stale = dispatch_cycle(
        directory, ledger, queue, now=UTC_NOON + STALE_AFTER + dt.timedelta(minutes=1), cycle_id="cycle-3"
    )
    # acme-build's run went stale; paused-co's pause has expired too.
    assert [(o.customer_id, o.cycle_id) for o in stale.queued] == [("acme-build", "cycle-3"), ("paused-co", "cycle-3")]


def test_work_order_chain_and_continuation() -> None:
    order = WorkOrder(customer_id="acme-build", stage=Stage.VENDORS, cycle_id="c", then=(Stage.GL, Stage.INVOICES))
    following = order.next_in_cycle()
    assert following == WorkOrder(customer_id="acme-build", stage=Stage.GL, cycle_id="c", then=(Stage.INVOICES,))
    assert order.continued().deduplication_id == "acme-build:vendors:c:1"
    assert order.deduplication_id == "acme-build:vendors:c:0"
    assert WorkOrder(customer_id="a-b-c", stage=Stage.PAYMENTS, cycle_id="c").next_in_cycle() is None


def test_a_preview_runs_every_stage_of_the_cycle() -> None:
    from ml_connector.kinds import CYCLE
    from ml_connector.preview import STAGE_FUNCTIONS

    assert tuple(STAGE_FUNCTIONS) == CYCLE


def test_a_cycle_that_runs_out_of_time_sends_what_it_marked_and_defers_the_rest() -> None:
    customers = [make_customer(f"cust-{n:03d}") for n in range(150)]
    ledger, queue = FakeStateStore(), FakeWorkQueue()
    checks = iter([True, False])

    report = dispatch_cycle(
        FakeCustomerDirectory(customers), ledger, queue, now=UTC_NOON, cycle_id="c1", time_left=lambda: next(checks)
    )

    assert len(queue.sent) == len(report.queued) == 100
    assert report.deferred == 50
    marked = {customer_id for customer_id, _ in ledger.runs}
    assert marked == {f"cust-{n:03d}" for n in range(100)}, "nothing is marked queued without being sent"

    later = dispatch_cycle(FakeCustomerDirectory(customers), ledger, queue, now=UTC_NOON, cycle_id="c2")
    assert [o.customer_id for o in later.queued] == [f"cust-{n:03d}" for n in range(100, 150)]
    assert later.deferred == 0


# -- reviews: reconciliations and onboarding previews ---------------------------------------------------------------


def dispatch_with_reviews(
    directory: FakeCustomerDirectory, ledger: FakeStateStore, reviews: FakeReviewQueue, *, hours_later: float
) -> DispatchReport:
    now = UTC_NOON + dt.timedelta(hours=hours_later)
    return dispatch_cycle(
        directory,
        ledger,
        FakeWorkQueue(),
        now=now,
        cycle_id=f"c{hours_later}",
        reviews=ReviewDispatch(ledger, reviews),
    )


@pytest.mark.parametrize(
    ("hours_later", "reconciled"),
    [(0, True), (23.9, False), (24, True), (24.5, False), (48, True)],
)
def test_a_reconciliation_is_queued_every_reconcile_every_hours(hours_later: float, reconciled: bool) -> None:
    directory = FakeCustomerDirectory([make_customer("acme-build", reconcile_every_hours=24)])
    ledger, reviews = FakeStateStore(), FakeReviewQueue()
    earlier = [h for h in (0, 24) if h < hours_later]
    for hours in earlier:  # the cycles that already queued one
        dispatch_with_reviews(directory, ledger, reviews, hours_later=hours)
    reviews.sent.clear()

    report = dispatch_with_reviews(directory, ledger, reviews, hours_later=hours_later)

    expected = [ReviewOrder(customer_id="acme-build", task=ReviewTask.RECONCILE, cycle_id=f"c{hours_later}")]
    assert report.reviews == reviews.sent == (expected if reconciled else [])


def test_an_onboarding_customer_gets_one_preview_and_no_stage_orders() -> None:
    directory = FakeCustomerDirectory([make_customer("new-co", first_run_dry=True)])
    ledger, reviews = FakeStateStore(), FakeReviewQueue()

    first = dispatch_with_reviews(directory, ledger, reviews, hours_later=0)
    assert first.queued == [] and first.summary()["reviews"] == ["new-co:preview"]
    assert dispatch_with_reviews(directory, ledger, reviews, hours_later=1).reviews == [], "one is under way"
    assert [o.task for o in dispatch_with_reviews(directory, ledger, reviews, hours_later=3).reviews] == [
        ReviewTask.PREVIEW
    ], "a preview queued long ago without a result is presumed lost"

    finished = ledger.reviews[("new-co", ReviewTask.PREVIEW)].model_copy(update={"finished_at": UTC_NOON})
    ledger.put_review_result(finished)
    assert dispatch_with_reviews(directory, ledger, reviews, hours_later=100).reviews == [], "a finished one stays"


def test_a_disabled_customer_gets_neither_stages_nor_reviews() -> None:
    directory = FakeCustomerDirectory([make_customer("off-co", enabled=False)])
    ledger, reviews = FakeStateStore(), FakeReviewQueue()

    report = dispatch_with_reviews(directory, ledger, reviews, hours_later=0)

    assert (report.customers, report.queued, report.reviews) == (1, [], [])
    assert ledger.runs == {} and reviews.sent == []
