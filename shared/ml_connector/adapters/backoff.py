"""Bounded retries with exponential back-off and full jitter, honouring ``Retry-After``."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ml_connector.errors import ConnectorError

T = TypeVar("T")


class Logger(Protocol):
    """What the clients need from a logger: stdlib ``logging.Logger`` and Powertools' ``Logger`` both fit."""

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...


class TransientFailure(Exception):
    """Raised by one attempt to ask for another; ``give_up`` is raised once attempts or time run out.

    ``server_error`` marks failures that are retried only ``BackoffPolicy.server_error_attempts`` times (a 500 that
    may well repeat), as opposed to waits the server asked for (423, 429, 503) and transport errors.
    """

    def __init__(
        self, give_up: ConnectorError, *, retry_after: float | None = None, server_error: bool = False
    ) -> None:
        super().__init__(str(give_up))
        self.give_up = give_up
        self.retry_after = retry_after
        self.server_error = server_error


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds (``"7"``) or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True)
class BackoffPolicy:
    """``max_attempts`` counts the first try. The total time spent sleeping never exceeds ``max_total_wait``:
    when the next wait (or the server's ``Retry-After``) would cross it, the call gives up at once, so a run's
    time budget stays predictable and the record goes to the retry queue instead.
    """

    max_attempts: int = 5
    server_error_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total_wait: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2**(attempt-1))], but never less than Retry-After."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        jittered = self.jitter() * ceiling
        return max(jittered, retry_after) if retry_after is not None else jittered

    def run(self, attempt: Callable[[], T], *, what: str, logger: Logger, scrub: Callable[[str], str]) -> T:
        """Call ``attempt`` until it returns, raises a non-transient error, or the attempts or time run out."""
        waited = 0.0
        number = 1
        while True:
            try:
                return attempt()
            except TransientFailure as failure:
                limit = self.server_error_attempts if failure.server_error else self.max_attempts
                wait = self.delay(number, failure.retry_after)
                reason = str(failure.give_up).removeprefix(f"{what}: ")
                if number >= limit or waited + wait > self.max_total_wait:
                    logger.warning(scrub(f"{what}: giving up after {number} attempt(s): {reason}"))
                    raise failure.give_up from None
                logger.warning(scrub(f"{what}: attempt {number}/{limit} failed ({reason}); retrying in {wait:.2f}s"))
                started = self.clock()
                self.sleep(wait)
                waited += max(wait, self.clock() - started)
                number += 1
