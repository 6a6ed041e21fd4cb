"""The simulator's clock: real UTC time by default; tests freeze it, set it and move it forward."""

from __future__ import annotations

import datetime as dt
import threading


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


def _as_utc(when: dt.datetime) -> dt.datetime:
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
