"""Which reviews the dispatcher queues: a reconciliation every ``reconcile_every_hours``, and for a customer
onboarding with ``first_run_dry`` one preview of its cycle instead of any stage run."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

from aws_lambda_powertools.utilities.data_classes import SQSEvent

from ml_connector.dispatch import dispatch_cycle
from ml_connector.kinds import CYCLE
from ml_connector.messages import ReviewOrder, WorkOrder
from ml_connector.review_dispatch import ReviewDispatch
from ml_connector.reviews import fully_synced
from ml_connector.state.history import ReviewTask
from ml_connector.state.models import RunCounts, RunState
from tests.fakes import FakeCustomerDirectory, FakeStateStore
from tests.support.customers import UTC_NOON, make_customer


class Queue:
    def __init__(self) -> None:
        self.sent: list[WorkOrder] = []

    def send(self, orders: Sequence[WorkOrder]) -> None:
        self.sent += orders


class Reviews:
    def __init__(self) -> None:
        self.sent: list[ReviewOrder] = []

    def send(self, orders: Sequence[ReviewOrder]) -> None:
        self.sent += orders


def tick(
    directory: FakeCustomerDirectory, state: FakeStateStore, at: dt.datetime
) -> tuple[list[WorkOrder], list[ReviewOrder]]:
    stages, reviews = Queue(), Reviews()
    dispatch_cycle(directory, state, stages, now=at, cycle_id=at.isoformat(), reviews=ReviewDispatch(state, reviews))
    return stages.sent, reviews.sent


def test_a_customer_is_reconciled_at_once_and_then_every_reconcile_every_hours() -> None:
    directory, state = FakeCustomerDirectory([make_customer("live-co", reconcile_every_hours=6)]), FakeStateStore()

    _, first = tick(directory, state, UTC_NOON)
    _, soon = tick(directory, state, UTC_NOON + dt.timedelta(hours=5, minutes=55))
    _, later = tick(directory, state, UTC_NOON + dt.timedelta(hours=6))

    assert [(o.customer_id, o.task) for o in first] == [("live-co", ReviewTask.RECONCILE)]
    assert soon == []
    assert [o.task for o in later] == [ReviewTask.RECONCILE]


def test_a_first_run_dry_customer_gets_one_preview_and_no_stage_until_the_flag_is_cleared() -> None:
    dry = make_customer("new-co", first_run_dry=True)
    directory, state = FakeCustomerDirectory([dry, make_customer("live-co")]), FakeStateStore()

    stages, reviews = tick(directory, state, UTC_NOON)
    assert {o.customer_id for o in stages} == {"live-co"}
    assert {(o.customer_id, o.task) for o in reviews} == {
        ("new-co", ReviewTask.PREVIEW),
        ("live-co", ReviewTask.RECONCILE),
    }

    previewed = state.get_review("new-co", ReviewTask.PREVIEW)
    assert previewed is not None
    state.put_review_result(previewed.model_copy(update={"finished_at": UTC_NOON + dt.timedelta(minutes=3)}))
    stages, reviews = tick(directory, state, UTC_NOON + dt.timedelta(days=3))
    queued_for = {o.customer_id for o in stages} | {o.customer_id for o in reviews}
    assert "new-co" not in queued_for, "a finished preview is not run again"

    directory.customers[0] = dry.model_copy(update={"first_run_dry": False})
    stages, reviews = tick(directory, state, UTC_NOON + dt.timedelta(days=3, minutes=5))
    assert [o.stage for o in stages if o.customer_id == "new-co"] == [CYCLE[0]]
    assert [o.task for o in reviews if o.customer_id == "new-co"] == [ReviewTask.RECONCILE]


def test_drift_counts_only_once_every_stage_has_succeeded() -> None:
    state = FakeStateStore()
    for stage in CYCLE[:-1]:
        state.mark_finished("c", stage, RunState.SUCCEEDED, RunCounts(), UTC_NOON, cycle_id="x")
    assert not fully_synced(state.list_runs("c"))
    state.mark_finished("c", CYCLE[-1], RunState.PARTIAL, RunCounts(failed=1), UTC_NOON, cycle_id="x")
    assert fully_synced(state.list_runs("c"))


def test_the_sample_event_is_an_sqs_fifo_batch_of_one_review_order() -> None:
    event = SQSEvent(json.loads((Path(__file__).resolve().parents[2] / "events" / "reconcile.json").read_text()))
    (record,) = event.records
    order = ReviewOrder.model_validate_json(record.body)
    assert order.task is ReviewTask.RECONCILE
    assert record.attributes.message_group_id == order.customer_id
    assert record.attributes.message_deduplication_id == order.deduplication_id
    assert record.event_source_arn.endswith("-reconcile.fifo")
