"""Runs one work order: one stage for one customer, then what comes next (a continuation or the cycle's next stage).

A customer that cannot be reached is paused (the dispatcher leaves it alone until its back-off ends) and the rest of
its cycle is released; a passing failure of the stage as a whole raises, so SQS delivers the order again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from ml_connector.customers import Customer
from ml_connector.errors import CustomerUnavailable
from ml_connector.health import healthy, pause
from ml_connector.messages import WorkOrder
from ml_connector.ports import CustomerDirectory, RetryQueue, StateStore, WorkQueue
from ml_connector.stages.context import StageContext, TimeBudget
from ml_connector.stages.parking import requeue_parked
from ml_connector.stages.result import StageResult
from ml_connector.state.models import HealthStatus, RunCounts, RunState

StageFunction = Callable[[StageContext], StageResult]


OpenContext = Callable[[Customer, TimeBudget], AbstractContextManager[StageContext]]


@dataclass(frozen=True)
class RunOutcome:
    state: RunState
    counts: RunCounts


@dataclass
class StageRunner:
    customers: CustomerDirectory
    state: StateStore
    work: WorkQueue
    retries: RetryQueue
    open_context: OpenContext
    clock: Callable[[], dt.datetime]

    def run(self, order: WorkOrder, sync: StageFunction, budget: TimeBudget) -> RunOutcome:
        """Run ``sync`` (the order's stage) for the order's customer, then queue what comes next."""
        customer = self.customers.get(order.customer_id)
        if not isinstance(customer, Customer):
            problem = customer.describe() if customer else f"customer {order.customer_id} has no customer item"
            return self._finish(order, RunState.FAILED, RunCounts(), problem)
        self.state.mark_running(order.customer_id, order.stage, order.cycle_id, self.clock())
        try:
            with self.open_context(customer, budget) as ctx:
                result = sync(ctx)
        except CustomerUnavailable as error:
            pause(self.state, customer.customer_id, error, self.clock())
            for later in (order.stage, *order.then):
                self.state.mark_finished(
                    order.customer_id,
                    later,
                    RunState.CUSTOMER_UNAVAILABLE,
                    RunCounts(),
                    self.clock(),
                    str(error),
                    cycle_id=order.cycle_id,
                )
            return RunOutcome(RunState.CUSTOMER_UNAVAILABLE, RunCounts())
        except Exception as error:
            # A passing failure (RetryLater) or a fault: the run is recorded as failed, and SQS delivers the order
            # again (after three tries it waits in the work DLQ).
            self._finish(
                order, RunState.FAILED, RunCounts(), f"{type(error).__name__}: {error}; the run will be retried"
            )
            raise
        self._mark_healthy(customer)
        counts = self._accumulated(order, result.counts)
        if not result.complete:
            outcome = self._finish(order, RunState.CONTINUING, counts, "time budget spent; continuing")
            self.work.send([order.continued()])
            return outcome
        state = RunState.PARTIAL if counts.failed or counts.waiting else RunState.SUCCEEDED
        outcome = self._finish(order, state, counts, _summary(result.errors))
        following = order.next_in_cycle()
        if following is not None:
            self.work.send([following])
        return outcome

    def _accumulated(self, order: WorkOrder, counts: RunCounts) -> RunCounts:
        """A continued run reports the whole run's counts, not just this invocation's."""
        if order.continuation == 0:
            return counts
        previous = self.state.get_run(order.customer_id, order.stage)
        return previous.counts.add(counts) if previous is not None else counts

    def _finish(self, order: WorkOrder, state: RunState, counts: RunCounts, message: str | None) -> RunOutcome:
        self.state.mark_finished(
            order.customer_id, order.stage, state, counts, self.clock(), message, cycle_id=order.cycle_id
        )
        if state is not RunState.CONTINUING:  # a run is kept once, when it ends, with the counts of all its parts
            self.state.archive_run(order.customer_id, order.stage)
        return RunOutcome(state, counts)

    def _mark_healthy(self, customer: Customer) -> None:
        """Back from a pause: healthy again, and the records parked during it go back on the retry queue."""
        previous = self.state.get_health(customer.customer_id)
        if previous is not None and previous.status is not HealthStatus.OK:
            self.state.put_health(healthy(customer.customer_id, self.clock()))
            requeue_parked(self.state, self.retries, customer.customer_id, self.clock())


def _summary(errors: tuple[str, ...]) -> str | None:
    """The run's message: how many records failed and the first reason (the rest are in `mlc failures`)."""
    if not errors:
        return None
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{errors[0]}{more}"
