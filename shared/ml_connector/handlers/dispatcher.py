"""The dispatcher's handler: fired by the schedule, it queues each customer's due stages and reviews."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ml_connector import bootstrap
from ml_connector.dispatch import dispatch_cycle
from ml_connector.handlers.shape import Handler, instrumented
from ml_connector.observability import record_dispatch
from ml_connector.review_dispatch import ReviewDispatch
from ml_connector.stages.context import TimeBudget

# The dispatcher stops taking new customers this long before its timeout (the rest go on the next tick).
RESERVE_MS = 30_000


def dispatcher_handler() -> Handler:
    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        wiring = bootstrap.adapters()
        budget = TimeBudget(context.get_remaining_time_in_millis, RESERVE_MS)
        report = dispatch_cycle(
            wiring.customers,
            wiring.state,
            wiring.work,
            now=dt.datetime.now(dt.UTC),
            cycle_id=context.aws_request_id,
            time_left=lambda: not budget.exhausted(),
            reviews=ReviewDispatch(wiring.state, wiring.reviews),
        )
        report.backlog = wiring.backlog.read()
        record_dispatch(report)
        return report.summary()

    return instrumented(handle)
