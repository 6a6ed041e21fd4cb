"""Dispatcher: fired by EventBridge Scheduler; queues each enabled customer's due stages on the work queues."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ml_connector import bootstrap
from ml_connector.dispatch import dispatch_cycle
from ml_connector.observability import MetricUnit, logger, metrics, tracer


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = dispatch_cycle(
        bootstrap.customer_directory(),
        bootstrap.state_store(),
        bootstrap.work_queue(),
        now=dt.datetime.now(dt.UTC),
        cycle_id=context.aws_request_id,
    )
    for invalid in report.invalid:
        logger.error(
            "customer item is invalid and was skipped", customer_id=invalid.customer_id, problems=invalid.problems
        )
    metrics.add_dimension("environment", bootstrap.settings().environment_name)
    metrics.add_metric("StagesQueued", MetricUnit.Count, len(report.queued))
    metrics.add_metric("CustomersInvalid", MetricUnit.Count, len(report.invalid))
    metrics.add_metric("CustomersOverdue", MetricUnit.Count, len(report.overdue))
    return report.summary()
