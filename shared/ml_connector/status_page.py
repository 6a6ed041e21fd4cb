"""What a customer's status page shows: each stage's recent runs, open failures grouped by reason, the latest
reconciliation summary and the latency of the two systems. Collected here, drawn by ``html_report``."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from ml_connector.errors import ConnectorError
from ml_connector.failure_guide import FailureGroup
from ml_connector.kinds import Stage
from ml_connector.model import Model
from ml_connector.ports import AvidConnect, SageAgent, StateStore
from ml_connector.reconcile_report import ReconciliationSummary
from ml_connector.state.models import RunCounts, RunState


class RunPoint(Model):
    stage: Stage
    state: RunState
    at: dt.datetime
    """When the run finished (or was last updated, while in flight)."""
    counts: RunCounts
    message: str | None = None


class Latency(Model):
    system: str
    seconds: float | None
    note: str
    """What was measured, or why there is no figure."""


class StatusPage(Model):
    customer_id: str
    display_name: str | None
    generated_at: dt.datetime
    runs: dict[Stage, list[RunPoint]]
    failures: list[FailureGroup]
    reconciliation: ReconciliationSummary | None
    latency: list[Latency]


def run_points(history: StateStore, customer_id: str, limit: int) -> dict[Stage, list[RunPoint]]:
    """Each stage's recent runs, oldest first (the order a chart reads)."""
    points: dict[Stage, list[RunPoint]] = {}
    for stage in Stage:
        runs = history.recent_runs(customer_id, stage, limit)
        points[stage] = sorted(
            (
                RunPoint(
                    stage=stage,
                    state=run.state,
                    at=run.finished_at or run.updated_at,
                    counts=run.counts,
                    message=run.message,
                )
                for run in runs
            ),
            key=lambda point: point.at,
        )
    return points


def measure_latency(
    agent: SageAgent, avid: AvidConnect, clock: Callable[[], float] = time.perf_counter
) -> list[Latency]:
    """One round trip to each system: the agent's health check and AvidConnect's company."""
    return [
        _timed("Sage 100 agent", "GET /v1/health", agent.health, clock),
        _timed("AvidConnect", "GET /v1/company", avid.company, clock),
    ]


def unmeasured(reason: str) -> list[Latency]:
    return [Latency(system=system, seconds=None, note=reason) for system in ("Sage 100 agent", "AvidConnect")]


def _timed(system: str, call: str, request: Callable[[], object], clock: Callable[[], float]) -> Latency:
    started = clock()
    try:
        request()
    except ConnectorError as error:
        return Latency(system=system, seconds=None, note=f"not available: {call} failed: {error}")
    return Latency(system=system, seconds=clock() - started, note=f"{call}, one round trip including retries")
