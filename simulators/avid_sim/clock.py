"""The simulator's clocks: real UTC time by default, which tests freeze, set and move forward; and a monotonic
clock for the rate limit, which tests replace with a ``ManualMonotonic``."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

Monotonic = Callable[[], float]
"""Seconds from an arbitrary start, never going back: ``time.monotonic`` or a ``ManualMonotonic``."""


class SimClock:
    """Every timestamp the simulator records comes from here,
    truncated to whole seconds (as the API shows)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._frozen_at: dt.datetime | None = _as_utc(start) if start is not None else None

    def now(self) -> dt.datetime:
        with self._lock:
            current = self._frozen_at if self._frozen_at is not None else dt.datetime.now(dt.UTC)
        return current.replace(microsecond=0)

    def set(self, when: dt.datetime) -> None:
        """Freeze the clock at ``when`` (naive values are taken as UTC)."""
        with self._lock:
            self._frozen_at = _as_utc(when)

    def advance(self, delta: dt.timedelta) -> None:
        """Freeze the clock (at the current time if it was running) and move it forward by ``delta``."""
        with self._lock:
            base = self._frozen_at if self._frozen_at is not None else dt.datetime.now(dt.UTC)
            self._frozen_at = base + delta

    def resume(self) -> None:
        """Follow real time again."""
        with self._lock:
            self._frozen_at = None


class ManualMonotonic:
    """A monotonic clock that moves only when told to, so rate-limit tests need no sleeping."""

    def __init__(self, start: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._now = start

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a monotonic clock cannot go back, got {seconds} seconds")
        with self._lock:
            self._now += seconds


def _as_utc(when: dt.datetime) -> dt.datetime:
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
