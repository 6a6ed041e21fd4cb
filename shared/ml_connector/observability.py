"""Logger and metrics, created once for every function, the tracer where tracing is on, and the metrics each use case
reports.

Service name and namespace come from the environment (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE).
Every custom metric is an aggregate, a fixed handful per deployment whatever the number of customers: dimensions
``environment`` + ``service`` (Powertools adds ``service`` itself), and ``stage`` for the stage figures. What a
single customer did goes to the structured logs (the dashboard's Logs Insights and Contributor Insights widgets).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from ml_connector.kinds import Stage

if TYPE_CHECKING:
    from ml_connector.dispatch import DispatchReport
    from ml_connector.stages.runner import RunOutcome
    from ml_connector.state.history import ReviewRecord

logger = Logger()
metrics = Metrics()
metrics.set_default_dimensions(environment=os.environ.get("ENVIRONMENT_NAME", "local"))

Traced = TypeVar("Traced", bound=Callable[..., object])


def traced(handler: Traced) -> Traced:
    """The handler under X-Ray, when tracing is on. Off (POWERTOOLS_TRACE_DISABLED, the template's default), the
    X-Ray SDK is never imported: it would add about a third of a second to every cold start."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in {"1", "true"}:
        return handler
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - only where tracing is on

    return cast("Traced", Tracer().capture_lambda_handler(handler))


# Calls to the agent and AvidConnect run on several threads of one invocation; Powertools' metric set is shared.
_metrics_lock = threading.Lock()

__all__ = [
    "MetricUnit",
    "logger",
    "metrics",
    "record_call_latency",
    "record_dispatch",
    "record_insecure_tls",
    "record_review",
    "record_run",
    "traced",
]


def record_dispatch(report: DispatchReport) -> None:
    for invalid in report.invalid:
        logger.error(
            "customer item is invalid and was skipped",
            customer_id=invalid.customer_id,
            problems=invalid.problems,
            failure_reason="invalid_customer",
        )
    for customer_id, status in report.paused.items():
        logger.warning("customer paused", customer_id=customer_id, failure_reason=status)
    for customer_id in report.overdue:
        logger.warning("customer overdue", customer_id=customer_id)
    figures = {
        "DispatchCycles": 1,
        "StagesQueued": len(report.queued),
        "CustomersInvalid": len(report.invalid),
        "CustomersOverdue": len(report.overdue),
        "CustomersPaused": len(report.paused),
        "AgentsUnreachable": len(report.agent_unreachable),
        "CustomersDeferred": report.deferred,
    }
    if report.backlog is not None:
        figures["RetryBacklog"] = report.backlog.retrying
        figures["DeadLetterBacklog"] = report.backlog.dead_lettered
    with _metrics_lock:
        for name, value in figures.items():
            metrics.add_metric(name, MetricUnit.Count, value)
    if report.deferred:
        logger.warning("dispatch cycle ran out of time; customers left for the next tick", deferred=report.deferred)


def record_run(stage: Stage, outcome: RunOutcome, duration_ms: float) -> None:
    """The run's figures per stage (one metric set of its own), and its log line with the customer's counts."""
    counts = outcome.counts
    stage_metrics = EphemeralMetrics(default_dimensions={"environment": _environment(), "stage": stage.value})
    stage_metrics.add_metric("RecordsSynced", MetricUnit.Count, counts.synced)
    stage_metrics.add_metric("RecordsSkipped", MetricUnit.Count, counts.skipped)
    stage_metrics.add_metric("RecordsFailed", MetricUnit.Count, counts.failed)
    stage_metrics.add_metric("RecordsWaiting", MetricUnit.Count, counts.waiting)
    stage_metrics.add_metric("RunDuration", MetricUnit.Milliseconds, duration_ms)
    if stage is Stage.INVOICES:  # only the invoices stage compares what AvidXchange may pay with Sage
        stage_metrics.add_metric("RecordsDrifted", MetricUnit.Count, counts.drifted)
    stage_metrics.flush_metrics()
    fields: dict[str, object] = {"state": outcome.state.value, "counts": counts.model_dump()}
    if outcome.state.value not in ("succeeded", "continuing"):
        fields["failure_reason"] = outcome.state.value
    logger.info("stage run finished", extra={**fields, "duration_ms": round(duration_ms)})


def record_review(review: ReviewRecord, *, counts_as_drift: bool) -> None:
    """A review's log line with the customer's summary, and, for a reconciliation, ``ReconciliationDrift``: the
    differences found (0 for a customer not yet through a whole cycle: that is onboarding, not drift)."""
    fields: dict[str, object] = {"ok": review.ok, "review_message": review.message, "summary": review.summary}
    if counts_as_drift and review.task.value == "reconcile" and review.ok is False:
        fields["failure_reason"] = "reconciliation_drift"
    logger.info("review finished", extra={"task": review.task.value, **fields})
    if review.task.value == "reconcile":
        drift = int(review.summary.get("drift_count", 0)) if counts_as_drift else 0
        with _metrics_lock:
            metrics.add_metric("ReconciliationDrift", MetricUnit.Count, drift)


def record_call_latency(metric_name: str, duration_ms: float) -> None:
    """One call to a customer's agent or AvidConnect (``AgentCallLatency`` / ``AvidCallLatency``), inside a function.
    The operator CLI makes the same calls and publishes no metrics (its output is for a person)."""
    if "AWS_LAMBDA_FUNCTION_NAME" not in os.environ:
        return
    with _metrics_lock:
        metrics.add_metric(metric_name, MetricUnit.Milliseconds, duration_ms)


def record_insecure_tls(customer_id: str, agent_url: str) -> None:
    logger.warning(
        "TLS verification is OFF for this customer's agent (allowed in dev only); switch it to tls mode pinned",
        customer_id=customer_id,
        agent_url=agent_url,
    )
    with _metrics_lock:
        metrics.add_metric("InsecureTlsRuns", MetricUnit.Count, 1)


def _environment() -> str:
    return str(metrics.default_dimensions.get("environment", "local"))
