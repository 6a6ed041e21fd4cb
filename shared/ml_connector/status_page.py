"""What a customer's status page shows: each stage's recent runs, open failures grouped by reason, the latest
reconciliation summary and the latency of the two systems. Collected here, drawn by ``html_report``."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Protocol

from pydantic import BaseModel

from ml_connector.errors import ConnectorError
from ml_connector.ports import AvidConnect, SageAgent
from ml_connector.reconcile_report import ReconciliationSummary
from ml_connector.stage import Stage
from ml_connector.state.models import FailedRecord, RunCounts, RunState, StageRun

# "invoice 01-ACME/10045: " and the like: the record a message is about, not why it failed.
_RECORD_PREFIX = re.compile(r"^[a-z-]+ [^:\s]+(?: [^:\s]+)?: ")
_NUMBERS = re.compile(r"\d+(?:[.,]\d+)*")


class RunPoint(BaseModel):
    stage: Stage
    state: RunState
    at: dt.datetime
    """When the run finished (or was last updated, while in flight)."""
    counts: RunCounts
    message: str | None = None


class FailureGroup(BaseModel):
    stage: Stage
    kind: str
    reason: str
    """The error with the record and its figures taken out, so that failures with one cause fall together."""
    count: int
    example: str
    """One failure's full error."""


class Latency(BaseModel):
    system: str
    seconds: float | None
    note: str
    """What was measured, or why there is no figure."""


class StatusPage(BaseModel):
    customer_id: str
    display_name: str | None
    generated_at: dt.datetime
    runs: dict[Stage, list[RunPoint]]
    failures: list[FailureGroup]
    reconciliation: ReconciliationSummary | None
    latency: list[Latency]


class RunHistory(Protocol):
    """Where a stage's recent runs come from (the newest first)."""

    def recent_runs(self, customer_id: str, stage: Stage, limit: int) -> list[StageRun]: ...


class RunReader(Protocol):
    def list_runs(self, customer_id: str) -> list[StageRun]: ...


class LatestRunOnly:
    """The run history the state keeps today: the last run of each stage."""

    def __init__(self, state: RunReader) -> None:
        self._state = state

    def recent_runs(self, customer_id: str, stage: Stage, limit: int) -> list[StageRun]:
        return [run for run in self._state.list_runs(customer_id) if run.stage is stage][:limit]


def run_points(history: RunHistory, customer_id: str, limit: int) -> dict[Stage, list[RunPoint]]:
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


def failure_reason(error: str) -> str:
    """``invoice 01-ACME/10045: GL account 6100-02-300 is not active`` -> ``GL account #-#-# is not active``."""
    return _NUMBERS.sub("#", _RECORD_PREFIX.sub("", error, count=1))


def group_failures(failures: Iterable[FailedRecord]) -> list[FailureGroup]:
    """Open failures by (stage, kind, reason), the largest group first."""
    counts: Counter[tuple[Stage, str, str]] = Counter()
    examples: dict[tuple[Stage, str, str], str] = {}
    for failure in failures:
        group = (failure.stage, failure.kind, failure_reason(failure.error))
        counts[group] += 1
        examples.setdefault(group, failure.error)
    return [
        FailureGroup(stage=stage, kind=kind, reason=reason, count=count, example=examples[(stage, kind, reason)])
        for (stage, kind, reason), count in counts.most_common()
    ]


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
