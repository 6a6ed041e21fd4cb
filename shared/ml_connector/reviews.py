"""Customer-wide reads that change nothing, run by the reconcile function: the scheduled reconciliation (every
``reconcile_every_hours``) and, for a customer onboarding with ``first_run_dry``, one preview of its whole cycle.

The dispatcher decides what is due (``ReviewDispatch``) and queues a ``ReviewOrder`` on the reconcile FIFO queue
(message group = the customer); ``run_review`` does the work and keeps the latest result in the state table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ml_connector.customers import Customer
from ml_connector.kinds import CYCLE
from ml_connector.messages import ReviewOrder
from ml_connector.ports import ReviewQueue, StateStore
from ml_connector.preview import preview_stages
from ml_connector.reconcile import reconcile_customer
from ml_connector.stages.context import StageContext
from ml_connector.state.history import ReviewRecord, ReviewTask
from ml_connector.state.models import StageRun

# A review queued this long ago without a result is presumed lost and may be queued again.
REVIEW_STALE_AFTER = dt.timedelta(hours=2)


@dataclass(frozen=True)
class ReviewDispatch:
    ledger: StateStore
    queue: ReviewQueue

    def dispatch(self, customers: Sequence[Customer], *, cycle_id: str, now: dt.datetime) -> list[ReviewOrder]:
        """Queue the reviews that are due: a preview for each ``first_run_dry`` customer that has none yet, and a
        reconciliation for every other customer whose last one was queued ``reconcile_every_hours`` ago or more."""
        orders = [
            *self._due([c for c in customers if c.first_run_dry], ReviewTask.PREVIEW, cycle_id, now, _preview_due),
            *self._due(
                [c for c in customers if not c.first_run_dry], ReviewTask.RECONCILE, cycle_id, now, _reconcile_due
            ),
        ]
        if orders:
            self.queue.send(orders)
        return orders

    def _due(
        self,
        customers: Sequence[Customer],
        task: ReviewTask,
        cycle_id: str,
        now: dt.datetime,
        due_since: Callable[[Customer, ReviewRecord | None, dt.datetime], dt.datetime | None],
    ) -> list[ReviewOrder]:
        if not customers:
            return []
        latest = self.ledger.get_reviews([c.customer_id for c in customers], task)
        orders = []
        for customer in customers:
            since = due_since(customer, latest.get(customer.customer_id), now)
            if since is not None and self.ledger.try_mark_review_queued(
                customer.customer_id, task, now, unless_queued_after=since
            ):
                orders.append(ReviewOrder(customer_id=customer.customer_id, task=task, cycle_id=cycle_id))
        return orders


def _preview_due(customer: Customer, latest: ReviewRecord | None, now: dt.datetime) -> dt.datetime | None:
    """Once: a finished preview stays until an operator clears ``first_run_dry`` (then the customer syncs)."""
    if latest is not None and latest.finished_at is not None:
        return None
    return now - REVIEW_STALE_AFTER


def _reconcile_due(customer: Customer, latest: ReviewRecord | None, now: dt.datetime) -> dt.datetime | None:
    since = now - dt.timedelta(hours=customer.reconcile_every_hours)
    if latest is not None and latest.queued_at is not None and latest.queued_at > since:
        return None
    return since


def fully_synced(runs: Sequence[StageRun]) -> bool:
    """Every stage of the cycle has succeeded at least once: only then is a disagreement drift, not onboarding."""
    succeeded = {run.stage for run in runs if run.last_success_at is not None}
    return succeeded >= set(CYCLE)


def run_review(
    order: ReviewOrder, ctx: StageContext, previous: ReviewRecord | None, *, clock: Callable[[], dt.datetime]
) -> ReviewRecord:
    """Run the task over the customer's systems (``ctx``); reads only. Returns the record to keep."""
    base: dict[str, Any] = {
        "customer_id": order.customer_id,
        "task": order.task,
        "queued_at": previous.queued_at if previous is not None else None,
    }
    if order.task is ReviewTask.RECONCILE:
        summary = reconcile_customer(ctx.customer, ctx.agent, ctx.avid, ctx.state, now=clock()).summary()
        return ReviewRecord(
            **base,
            finished_at=clock(),
            ok=summary.in_agreement,
            summary=summary.model_dump(mode="json"),
            message="in agreement" if summary.in_agreement else f"{summary.drift_count} differences",
        )
    report = preview_stages(ctx, CYCLE, clock=clock)
    complete = all(stage.complete for stage in report.stages)
    reach = "the first cycle" if complete else "the first cycle as far as one invocation's time reached"
    return ReviewRecord(
        **base,
        finished_at=clock(),
        ok=complete,
        summary=report.summary(),
        message=f"preview of {reach}; nothing was written. Clear first_run_dry to start syncing",
    )
