"""The stage runner records every run's end, whatever the stage raised."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from ml_connector.customers import Customer
from ml_connector.kinds import Stage
from ml_connector.messages import WorkOrder
from ml_connector.stages.context import StageContext, TimeBudget
from ml_connector.stages.runner import StageRunner
from ml_connector.state.models import RunState
from tests.support.customers import UTC_NOON, make_customer


class RecordingState:
    def __init__(self) -> None:
        self.finished: list[tuple[Stage, RunState, str | None]] = []

    def mark_running(self, *args: Any) -> None:
        pass

    def mark_finished(self, customer_id: str, stage: Stage, state: RunState, counts: Any, now: dt.datetime,
                      message: str | None = None, *, cycle_id: str) -> None:  # fmt: skip
        self.finished.append((stage, state, message))

    def get_health(self, customer_id: str) -> None:
        return None

    def archive_run(self, customer_id: str, stage: Stage) -> None:
        pass


class Directory:
    def get(self, customer_id: str) -> Customer:
        return make_customer(customer_id)


class NoQueue:
    def send(self, orders: Any) -> None:
        raise AssertionError("nothing is queued after a failed run")


@contextlib.contextmanager
def no_systems(customer: Customer, budget: TimeBudget) -> Iterator[StageContext]:
    yield None  # type: ignore[misc]


def test_a_stage_that_breaks_is_recorded_failed_and_delivered_again() -> None:
    def broken(ctx: StageContext) -> Any:
        raise KeyError("Segments")

    state = RecordingState()
    runner = StageRunner(Directory(), state, NoQueue(), NoQueue(), no_systems, lambda: UTC_NOON)  # type: ignore[arg-type]
    order = WorkOrder(customer_id="acme-build", stage=Stage.VENDORS, cycle_id="c", then=(Stage.GL,))

    with pytest.raises(KeyError):
        runner.run(order, broken, TimeBudget.for_seconds(60))

    assert state.finished == [(Stage.VENDORS, RunState.FAILED, "KeyError: 'Segments'; the run will be retried")]
