"""Logger, metrics and tracer, created once for every function, and the metrics each use case reports.

Service name and namespace come from the environment (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE).
Aggregate metrics carry only the ``environment`` dimension (the dashboard's); per-customer figures go out as
separate metric sets with ``customer`` and ``stage`` dimensions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

if TYPE_CHECKING:
    from ml_connector.dispatch import DispatchReport
    from ml_connector.stage import Stage
    from ml_connector.stages.runner import RunOutcome

logger = Logger()
metrics = Metrics()
tracer = Tracer()

__all__ = ["MetricUnit", "logger", "metrics", "record_dispatch", "record_run", "tracer"]


def record_dispatch(report: DispatchReport, environment: str) -> None:
    for invalid in report.invalid:
        logger.error(
            "customer item is invalid and was skipped", customer_id=invalid.customer_id, problems=invalid.problems
        )
    metrics.add_dimension("environment", environment)
    metrics.add_metric("StagesQueued", MetricUnit.Count, len(report.queued))
    metrics.add_metric("CustomersInvalid", MetricUnit.Count, len(report.invalid))
    metrics.add_metric("CustomersOverdue", MetricUnit.Count, len(report.overdue))
    metrics.add_metric("CustomersPaused", MetricUnit.Count, len(report.paused))
    metrics.add_metric("CustomersDeferred", MetricUnit.Count, report.deferred)
    if report.deferred:
        logger.warning("dispatch cycle ran out of time; customers left for the next tick", deferred=report.deferred)


def record_run(stage: Stage, customer_id: str, outcome: RunOutcome, duration_ms: float, environment: str) -> None:
    counts = outcome.counts
    figures = {
        "RecordsSynced": counts.synced,
        "RecordsSkipped": counts.skipped,
        "RecordsFailed": counts.failed,
        "RecordsWaiting": counts.waiting,
    }
    metrics.add_dimension("environment", environment)
    for name, value in figures.items():
        metrics.add_metric(name, MetricUnit.Count, value)
    metrics.add_metric("RunDuration", MetricUnit.Milliseconds, duration_ms)
    for name, value in figures.items():
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=metrics.namespace) as metric:
            metric.add_dimension("customer", customer_id)
            metric.add_dimension("stage", stage.value)
    logger.info(
        "stage run finished", state=outcome.state.value, counts=counts.model_dump(), duration_ms=round(duration_ms)
    )
