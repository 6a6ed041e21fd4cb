"""Which reviews are due, decided by the dispatcher: a preview for each customer onboarding with ``first_run_dry``
(once), and a reconciliation every ``reconcile_every_hours`` for the others. ``reviews.run_review`` does them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ml_connector.customers import Customer
from ml_connector.messages import ReviewOrder
from ml_connector.ports import ReviewQueue, StateStore
from ml_connector.state.history import ReviewRecord, ReviewTask

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
