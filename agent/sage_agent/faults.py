"""Fault controls for tests: latency, a share of calls failing with 423/503/500, the next N calls of an
endpoint failing. They exist only when the agent's configuration sets ``faults_enabled``; never for BOI."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sage_agent.backend import BackendError, BackendFailure, Busy, RecordLocked

FaultStatus = Literal[423, 500, 503]
ENDPOINTS = (
    "health",
    "ping",
    "vendors",
    "vendor",
    "gl_accounts",
    "gl_account",
    "gl_segments",
    "segment_values",
    "segment_value",
    "invoices",
    "invoice",
    "invoice_image",
    "post_payment",
    "get_payment",
)
"""Names of the endpoints faults can target (``"*"`` targets every one)."""


class NextFailures(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(description="an endpoint name, or * for any")
    count: int = Field(ge=1, le=10_000)
    status: FaultStatus = 503


class FaultSettings(BaseModel):
    """What ``PUT /v1/_faults`` takes and ``GET /v1/_faults`` returns."""

    model_config = ConfigDict(extra="forbid")

    latency_seconds: float = Field(default=0.0, ge=0, le=60)
    locked_share: float = Field(default=0.0, ge=0, le=1)
    busy_share: float = Field(default=0.0, ge=0, le=1)
    error_share: float = Field(default=0.0, ge=0, le=1)
    retry_after: int = Field(default=1, ge=0, le=3600, description="Retry-After seconds on injected 423/503")
    fail_next: list[NextFailures] = Field(default_factory=list)


class FaultController:
    """Thread-safe fault switches, consulted by the HTTP layer before each endpoint runs."""

    def __init__(
        self,
        *,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = FaultSettings()
        self._pending: list[NextFailures] = []
        self._guard = threading.Lock()
        self._rng = rng or random.Random()  # noqa: S311 - fault sampling, not secrets
        self._sleep = sleep

    def apply(self, settings: FaultSettings) -> None:
        """Replace every setting at once (what ``PUT /v1/_faults`` does)."""
        for entry in settings.fail_next:
            _check_endpoint(entry.endpoint)
        with self._guard:
            self._settings = settings.model_copy(update={"fail_next": []})
            self._pending = [entry.model_copy() for entry in settings.fail_next]

    def settings(self) -> FaultSettings:
        with self._guard:
            return self._settings.model_copy(update={"fail_next": [e.model_copy() for e in self._pending]})

    def reset(self) -> None:
        self.apply(FaultSettings())

    def set_latency(self, seconds: float) -> None:
        self._update(latency_seconds=seconds)

    def set_failure_shares(
        self, *, locked: float = 0.0, busy: float = 0.0, error: float = 0.0, retry_after: int | None = None
    ) -> None:
        """Make a share (0..1) of calls answer 423 (``locked``), 503 (``busy``) or 500 (``error``)."""
        changes: dict[str, object] = {"locked_share": locked, "busy_share": busy, "error_share": error}
        if retry_after is not None:
            changes["retry_after"] = retry_after
        self._update(**changes)

    def fail_next(self, endpoint: str, count: int, status: FaultStatus = 503) -> None:
        """Make the next ``count`` calls of ``endpoint`` (a name from ``ENDPOINTS`` or ``*``) answer ``status``."""
        _check_endpoint(endpoint)
        entry = NextFailures(endpoint=endpoint, count=count, status=status)
        with self._guard:
            self._pending.append(entry)

    def before_call(self, endpoint: str) -> None:
        """Sleep the latency, then raise the fault due for this call, if any."""
        with self._guard:
            settings = self._settings
            status = self._take_next(endpoint)
            if status is None:
                roll = self._rng.random()
                for share, candidate in (
                    (settings.locked_share, 423),
                    (settings.busy_share, 503),
                    (settings.error_share, 500),
                ):
                    if roll < share:
                        status = candidate
                        break
                    roll -= share
        if settings.latency_seconds:
            self._sleep(settings.latency_seconds)
        if status is not None:
            raise _fault(status, endpoint, settings.retry_after)

    def _take_next(self, endpoint: str) -> int | None:
        for entry in self._pending:
            if entry.endpoint in (endpoint, "*"):
                entry.count -= 1
                if entry.count == 0:
                    self._pending.remove(entry)
                return entry.status
        return None

    def _update(self, **changes: object) -> None:
        with self._guard:
            self._settings = FaultSettings.model_validate(self._settings.model_dump() | changes)


def _check_endpoint(endpoint: str) -> None:
    if endpoint != "*" and endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r} for fail_next; use one of {', '.join(ENDPOINTS)} or *")


def _fault(status: int, endpoint: str, retry_after: int) -> BackendError:
    if status == 423:
        return RecordLocked(f"Record/file busy (injected fault on {endpoint})", retry_after)
    if status == 503:
        return Busy(f"all BOI sessions are in use (injected fault on {endpoint})", retry_after)
    return BackendFailure(f"injected BOI failure on {endpoint}")
