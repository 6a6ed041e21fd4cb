"""Which calls get latency or a fault: the next N calls of an endpoint, or a seeded share of calls."""

from __future__ import annotations

import enum
import functools
import random
import re
import threading
from dataclasses import dataclass, field

_PARAMETER = re.compile(r"\{[^}]*\}")


class FaultKind(enum.StrEnum):
    RATE_LIMIT = "rate_limit"
    """429 with Retry-After."""
    SERVER_ERROR = "server_error"
    """A 5xx whose body echoes the request headers (tokens included), as the contract warns real ones may."""
    TIMEOUT = "timeout"
    """Hold the response ``hold_seconds`` (or until the client goes away), then answer."""
    DROP = "drop"
    """Close the connection without any HTTP response."""


@dataclass(frozen=True)
class Endpoint:
    """A method and a path template, e.g. ``Endpoint("POST", "/v1/invoices/{Id}/image")``.

    A parameter (any name) matches one path segment: ``{Id}`` matches ``I-5001``."""

    method: str
    path: str

    def matches(self, method: str, path: str) -> bool:
        """Whether a concrete request (``GET /v1/invoices/I-5001``) is a call of this endpoint."""
        return self.method.upper() == method.upper() and _pattern(self.path).fullmatch(path.rstrip("/")) is not None


@functools.lru_cache(maxsize=256)
def _pattern(template: str) -> re.Pattern[str]:
    pieces = _PARAMETER.split(template.rstrip("/"))
    return re.compile("[^/]+".join(re.escape(piece) for piece in pieces))


@dataclass
class FaultRule:
    kind: FaultKind
    endpoint: Endpoint | None = None
    """None: every /v1 endpoint."""
    remaining: int | None = None
    """For the next N matching calls; None when the rule fires for a ``share`` of calls instead."""
    share: float | None = None
    status: int = 503
    """The 5xx status of a SERVER_ERROR (and of a TIMEOUT whose request was not processed: 504)."""
    retry_after: int = 1
    hold_seconds: float = 5.0
    processed: bool = False
    """True: the request is carried out first (state changes), then the fault replaces the answer."""

    def __post_init__(self) -> None:
        if (self.remaining is None) == (self.share is None):
            raise ValueError("a fault rule needs exactly one of next_calls or share")
        if self.remaining is not None and self.remaining < 1:
            raise ValueError(f"next_calls must be 1 or more, got {self.remaining}")
        if self.share is not None and not 0 < self.share <= 1:
            raise ValueError(f"share must be in (0, 1], got {self.share}")
        if self.kind is FaultKind.SERVER_ERROR and not 500 <= self.status <= 599:
            raise ValueError(f"a server error needs a 5xx status, got {self.status}")
        if self.kind is FaultKind.RATE_LIMIT and self.processed:
            raise ValueError("a 429 is answered before the request is processed")
        if self.retry_after < 0 or self.hold_seconds < 0:
            raise ValueError("retry_after and hold_seconds cannot be negative")


@dataclass(frozen=True)
class Decision:
    latency: float
    fault: FaultRule | None


@dataclass
class FaultPlan:
    """Thread-safe: tests change it from their thread while the server reads it from its event loop."""

    seed: int = 4242
    rules: list[FaultRule] = field(default_factory=list)
    latency: dict[Endpoint | None, float] = field(default_factory=dict)
    fired: list[tuple[FaultKind, str, str]] = field(default_factory=list)
    """Every fault that fired: (kind, method, request path)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # noqa: S311 - deterministic test faults, not security

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def set_latency(self, seconds: float, endpoint: Endpoint | None = None) -> None:
        if seconds < 0:
            raise ValueError(f"latency cannot be negative, got {seconds}")
        with self._lock:
            self.latency[endpoint] = seconds

    def reset(self, *, seed: int | None = None) -> None:
        """Remove every rule and latency; optionally restart the random sequence."""
        with self._lock:
            self.rules.clear()
            self.latency.clear()
            if seed is not None:
                self.seed = seed
            self._rng = random.Random(self.seed)  # noqa: S311

    def decide(self, method: str, path: str) -> Decision:
        with self._lock:
            return Decision(self._latency_for(method, path), self._fault_for(method, path))

    def _latency_for(self, method: str, path: str) -> float:
        for endpoint, seconds in self.latency.items():
            if endpoint is not None and endpoint.matches(method, path):
                return seconds
        return self.latency.get(None, 0.0)

    def _fault_for(self, method: str, path: str) -> FaultRule | None:
        counted = [rule for rule in self.rules if rule.remaining is not None]
        shared = [rule for rule in self.rules if rule.share is not None]
        for rule in counted + shared:
            if rule.endpoint is not None and not rule.endpoint.matches(method, path):
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining == 0:
                    self.rules.remove(rule)
            elif self._rng.random() >= (rule.share or 0):
                continue
            self.fired.append((rule.kind, method, path))
            return rule
        return None
