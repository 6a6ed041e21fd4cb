"""One rate limit across invocations: this invocation's turns on the customer's shared call schedule.

AvidXchange limits calls per customer, however many invocations make them: a stage, the payments poll and the retry
function of one customer may run at once. Each paces itself (``Pacer``, which also adapts to 429s), and each call
also takes a turn on the customer's schedule (``ports.CallSchedule``), where turns are ``1 / rate`` apart whoever
holds them. Turns are claimed in blocks, so the schedule is written once per block, not once per call: a block
starts at one turn and doubles with each claim up to ``BLOCK_SECONDS`` of turns, so a short run (the payments
poll's few reads) holds little, and a long one writes about once every ``BLOCK_SECONDS``.

A turn is good from its time until the next one's: a turn the invocation did not use in time (its own pace was
slower, or it paused for a ``Retry-After``) is gone, since another invocation may be sending on the turns after it.
Turns are shared out by demand: an invocation that sends little takes little.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from ml_connector.adapters.pacing import TooLongToWait
from ml_connector.ports import CallSchedule

BLOCK_SECONDS = 2.0
"""The longest block of turns claimed at once, in seconds of calls at the rate."""


class SharedTurns:
    """This invocation's turns on one customer's call schedule; thread-safe."""

    def __init__(
        self,
        schedule: CallSchedule,
        customer_id: str,
        rate: float,
        *,
        block_seconds: float = BLOCK_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"the rate must be a number of calls per second above 0, got {rate}")
        self._schedule = schedule
        self._customer_id = customer_id
        self._interval = 1.0 / rate
        self._max_block = max(1, math.floor(rate * block_seconds))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._block = 1
        self._start = 0.0
        self._size = 0
        self._next = 0

    def wait(self, *, max_wait: float = math.inf) -> None:
        """Wait for this call's turn; raise ``TooLongToWait`` (giving the turn back) if it is more than ``max_wait``
        away."""
        with self._lock:
            now = self._clock()
            turn = self._take(now)
            wait = turn - now
            if wait > max_wait:
                self._next -= 1
                raise TooLongToWait(wait)
        if wait > 0:
            self._sleep(wait)

    def _take(self, now: float) -> float:
        current = math.floor((now - self._start) / self._interval)  # the turn whose time span holds now
        if current > self._next:
            if self._next < self._size:  # turns of the block went by unused: claim fewer
                self._block = max(1, self._block // 2)
            self._next = current
        if self._next >= self._size:
            self._start = self._schedule.claim(self._customer_id, self._block, self._interval, now)
            self._size, self._next = self._block, 0
            self._block = min(self._max_block, self._block * 2)
        turn = self._start + self._next * self._interval
        self._next += 1
        return turn
