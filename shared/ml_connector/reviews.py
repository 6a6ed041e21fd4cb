"""Customer-wide reads that change nothing, run by the reconcile function: the scheduled reconciliation (every
``reconcile_every_hours``) and, for a customer onboarding with ``first_run_dry``, one preview of its whole cycle.

The dispatcher decides what is due (``review_dispatch.ReviewDispatch``) and queues a ``ReviewOrder`` on the reconcile
FIFO queue (message group = the customer); ``run_review`` does the work and keeps the latest result in the state table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from ml_connector.kinds import CYCLE
from ml_connector.messages import ReviewOrder
from ml_connector.stages.context import StageContext
from ml_connector.state.history import ReviewRecord, ReviewTask
from ml_connector.state.models import StageRun


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
    # Each task imports its own machinery when it runs: a reconciliation never loads the stages a preview runs.
    if order.task is ReviewTask.RECONCILE:
        from ml_connector.reconcile import reconcile_customer  # noqa: PLC0415

        summary = reconcile_customer(ctx.customer, ctx.agent, ctx.avid, ctx.state, now=clock()).summary()
        return ReviewRecord(
            **base,
            finished_at=clock(),
            ok=summary.in_agreement,
            summary=summary.model_dump(mode="json"),
            message="in agreement" if summary.in_agreement else f"{summary.drift_count} differences",
        )
    from ml_connector.preview import preview_stages  # noqa: PLC0415

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
