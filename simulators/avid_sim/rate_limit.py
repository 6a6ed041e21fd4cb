"""AvidXchange's per-company rate limit: a token bucket over every /v1 call, and the counts of the calls it let
through and refused (for benchmarks: calls per record, 429s)."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from avid_sim.clock import Monotonic

_EPSILON = 1e-9
"""Float slack: a token refilled after exactly 1/rate seconds is whole, and a wait of 2.0000000001 s is 2 s."""


@dataclass(frozen=True)
class RateLimit:
    per_second: float
    """Tokens added per second: the sustained rate of calls."""
    burst: int
    """The bucket's size: how many calls may come at once after a quiet spell."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.per_second) and self.per_second > 0):
            raise ValueError(f"the rate limit must be a number of calls per second above 0, got {self.per_second}")
        if self.burst < 1:
            raise ValueError(f"the burst must be 1 or more, got {self.burst}")

    @classmethod
    def of(cls, per_second: float, burst: int | None = None) -> RateLimit:
        """``burst`` defaults to one second's worth of calls, at least 1."""
        if burst is None:
            # An infinite or NaN rate gets burst 1 here only to be refused by __post_init__.
            burst = max(1, math.ceil(per_second)) if math.isfinite(per_second) else 1
        return cls(per_second, burst)


@dataclass(frozen=True)
class CallStats:
    answered: int
    """/v1 calls the rate limit let through (then answered by the API, or by an injected fault)."""
    rate_limited: int
    """/v1 calls refused by the rate limit with 429 (injected 429 faults are not counted here)."""

    @property
    def calls(self) -> int:
        return self.answered + self.rate_limited

    def wire(self) -> dict[str, int]:
        return {"Calls": self.calls, "Answered": self.answered, "RateLimited": self.rate_limited}


class TokenBucket:
    """Holds up to ``burst`` tokens, starts full, refills at ``per_second``; each call takes one. Not thread-safe."""

    def __init__(self, limit: RateLimit, now: float) -> None:
        self.limit = limit
        self._tokens = float(limit.burst)
        self._last = now

    def take(self, now: float) -> int | None:
        """None when a token was taken; else the whole seconds (rounded up, at least 1) until one is back."""
        self._tokens = min(float(self.limit.burst), self._tokens + (now - self._last) * self.limit.per_second)
        self._last = now
        if self._tokens >= 1 - _EPSILON:
            self._tokens = max(0.0, self._tokens - 1)
            return None
        wait = (1 - self._tokens) / self.limit.per_second
        return max(1, math.ceil(wait - _EPSILON))


class RateLimiter:
    """The bucket (none: no limit) and the call counts. Thread-safe: the controls change it from a test's thread
    while the server consults it from its event loop."""

    def __init__(self, limit: RateLimit | None = None, *, clock: Monotonic = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._bucket: TokenBucket | None = None
        self._answered = 0
        self._rate_limited = 0
        self.configure(limit)

    @property
    def limit(self) -> RateLimit | None:
        with self._lock:
            return None if self._bucket is None else self._bucket.limit

    def configure(self, limit: RateLimit | None) -> None:
        """Enforce ``limit`` from now on, starting with a full bucket; None removes the limit."""
        with self._lock:
            self._bucket = None if limit is None else TokenBucket(limit, self._clock())

    def admit(self) -> int | None:
        """Count one /v1 call. None: it may go ahead; else the Retry-After seconds of its 429."""
        with self._lock:
            retry_after = None if self._bucket is None else self._bucket.take(self._clock())
            if retry_after is None:
                self._answered += 1
            else:
                self._rate_limited += 1
            return retry_after

    def stats(self) -> CallStats:
        with self._lock:
            return CallStats(answered=self._answered, rate_limited=self._rate_limited)

    def reset_stats(self) -> None:
        with self._lock:
            self._answered = self._rate_limited = 0
