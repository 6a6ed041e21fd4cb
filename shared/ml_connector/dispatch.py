"""The dispatcher's logic: which customer stages are due, queued in cycle order, never twice at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ml_connector.customers import Customer, InvalidCustomer
from ml_connector.kinds import CYCLE, Stage
from ml_connector.messages import WorkOrder
from ml_connector.ports import Backlog, CustomerDirectory, StateStore, WorkQueue
from ml_connector.state.models import CustomerHealth, HealthStatus, StageRun

if TYPE_CHECKING:  # reviews run the stages (preview), whose runner imports this module
    from ml_connector.messages import ReviewOrder
    from ml_connector.review_dispatch import ReviewDispatch

# A queued or running stage that has not reported for this long is presumed dead (a stage invocation lasts at most
# 15 minutes and every continuation reports), so it may be queued again.
STALE_AFTER = dt.timedelta(hours=1)
# A stage is overdue when its last success (or, never synced, its last queueing) is older than this many of its
# intervals.
OVERDUE_INTERVALS = 2
DISPATCH_CONCURRENCY = 16
DISPATCH_CHUNK = 100


@dataclass
class DispatchReport:
    cycle_id: str
    customers: int = 0
    queued: list[WorkOrder] = field(default_factory=list)
    invalid: list[InvalidCustomer] = field(default_factory=list)
    paused: dict[str, str] = field(default_factory=dict)
    """Paused customer id -> its health status (why it is paused)."""
    agent_unreachable: list[str] = field(default_factory=list)
    in_flight: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    deferred: int = 0
    """Customers not looked at because the invocation's time ran low; the next tick takes them."""
    backlog: Backlog | None = None
    reviews: list[ReviewOrder] = field(default_factory=list)
    """Reconciliations and onboarding previews queued on the reconcile queue."""

    def summary(self) -> dict[str, object]:
        return {
            "cycle_id": self.cycle_id,
            "customers": self.customers,
            "queued": [f"{o.customer_id}:{o.stage}" + "".join(f">{s}" for s in o.then) for o in self.queued],
            "invalid": [i.describe() for i in self.invalid],
            "paused": list(self.paused),
            "agent_unreachable": self.agent_unreachable,
            "in_flight": self.in_flight,
            "overdue": self.overdue,
            "deferred": self.deferred,
            "reviews": [f"{o.customer_id}:{o.task}" for o in self.reviews],
        }


def due_stages(customer: Customer, runs: dict[Stage, StageRun], now: dt.datetime) -> list[Stage]:
    """The stages whose interval has passed since they were last queued, in cycle order."""
    due = []
    for stage in CYCLE:
        run = runs.get(stage)
        last = run.queued_at if run is not None and run.queued_at is not None else None
        if last is None or now - last >= customer.schedules.every(stage):
            due.append(stage)
    return due


def is_overdue(customer: Customer, runs: dict[Stage, StageRun], now: dt.datetime) -> bool:
    """Some stage has not succeeded within OVERDUE_INTERVALS of its schedule. A stage that never succeeded counts
    from when it was queued: overdue at once if its last run ended without success, or when it has been queued
    or running for that long. A stage never queued at all is not yet expected."""
    for stage, run in runs.items():
        window = OVERDUE_INTERVALS * customer.schedules.every(stage)
        if run.last_success_at is not None:
            if now - run.last_success_at > window:
                return True
        elif not run.state.in_flight or (run.queued_at is not None and now - run.queued_at > window):
            return True
    return False


def is_paused(health: CustomerHealth | None, now: dt.datetime) -> bool:
    return health is not None and health.status is not HealthStatus.OK and (health.retry_at or now) > now


def dispatch_cycle(
    directory: CustomerDirectory,
    ledger: StateStore,
    queue: WorkQueue,
    *,
    now: dt.datetime,
    cycle_id: str,
    time_left: Callable[[], bool] = lambda: True,
    concurrency: int = DISPATCH_CONCURRENCY,
    reviews: ReviewDispatch | None = None,
) -> DispatchReport:
    """Customers go in chunks: each chunk's stages are marked and its orders sent before the next chunk starts, and
    when ``time_left()`` turns False the rest are left for the next tick (``report.deferred``).

    With ``reviews``, each chunk's due reconciliations and onboarding previews are queued too. A customer onboarding
    with ``first_run_dry`` gets no stage order at all: its first dispatch queues a preview of the cycle, and it
    syncs only once an operator clears the flag."""
    customers, invalid = directory.load()
    report = DispatchReport(cycle_id=cycle_id, customers=len(customers) + len(invalid), invalid=invalid)
    enabled = [customer for customer in customers if customer.enabled]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for start in range(0, len(enabled), DISPATCH_CHUNK):
            if not time_left():
                report.deferred = len(enabled) - start
                break
            chunk = enabled[start : start + DISPATCH_CHUNK]
            _dispatch_chunk([c for c in chunk if not c.first_run_dry], ledger, queue, pool, report, now)
            if reviews is not None:
                report.reviews += reviews.dispatch(chunk, cycle_id=cycle_id, now=now)
    return report


def _dispatch_chunk(
    customers: Sequence[Customer],
    ledger: StateStore,
    queue: WorkQueue,
    pool: ThreadPoolExecutor,
    report: DispatchReport,
    now: dt.datetime,
) -> None:
    snapshots = ledger.snapshots([customer.customer_id for customer in customers], CYCLE)
    due: list[tuple[Customer, list[Stage], bool]] = []
    for customer in customers:
        snapshot = snapshots[customer.customer_id]
        # Paused customers are overdue like any other: a pause is the reason, not an excuse.
        if is_overdue(customer, snapshot.runs, now):
            report.overdue.append(customer.customer_id)
        if snapshot.health is not None and snapshot.health.status is HealthStatus.AGENT_OFFLINE:
            report.agent_unreachable.append(customer.customer_id)
        if is_paused(snapshot.health, now):
            assert snapshot.health is not None  # is_paused needs one
            report.paused[customer.customer_id] = snapshot.health.status.value
            continue
        in_flight = any(run.state.in_flight for run in snapshot.runs.values())
        due.append((customer, due_stages(customer, snapshot.runs, now), in_flight))

    def mark(entry: tuple[Customer, list[Stage], bool]) -> list[Stage]:
        customer, stages, _ = entry
        return [s for s in stages if ledger.try_mark_queued(customer.customer_id, s, report.cycle_id, now, STALE_AFTER)]

    # Marking is one conditional write per due stage; customers are independent, so their writes run side by side.
    orders = []
    for (customer, _, in_flight), stages in zip(due, pool.map(mark, due), strict=True):
        if stages:
            orders.append(
                WorkOrder(
                    customer_id=customer.customer_id, stage=stages[0], cycle_id=report.cycle_id, then=tuple(stages[1:])
                )
            )
        elif in_flight:
            report.in_flight.append(customer.customer_id)
    queue.send(orders)
    report.queued += orders
