"""What a stage run works with: the customer, the two systems, state, the retry queue, and its time budget."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from ml_connector import fault_points
from ml_connector.customers import Customer
from ml_connector.ports import AvidConnect, RetryQueue, SageAgent, Sealer, StateStore


@dataclass
class TimeBudget:
    """How long the invocation may still work. ``remaining_ms`` is Lambda's context.get_remaining_time_in_millis;
    ``reserve_ms`` is kept back to save the cursor, flush the audit and queue the continuation."""

    remaining_ms: Callable[[], int]
    reserve_ms: int = 60_000

    def exhausted(self) -> bool:
        return fault_points.reach("budget.check") or self.remaining_ms() <= self.reserve_ms

    @classmethod
    def for_seconds(cls, seconds: float, reserve_ms: int = 0) -> TimeBudget:
        deadline = time.monotonic() + seconds
        return cls(lambda: int((deadline - time.monotonic()) * 1000), reserve_ms)


LEASE_MARGIN_MS = 60_000


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class StageContext:
    customer: Customer
    agent: SageAgent
    avid: AvidConnect
    state: StateStore
    retries: RetryQueue
    sealer: Sealer
    budget: TimeBudget
    clock: Callable[[], dt.datetime] = field(default=utc_now)
    worker_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    """Who holds the leases this run takes: one id per invocation."""

    @property
    def customer_id(self) -> str:
        return self.customer.customer_id

    def lease_expiry(self) -> dt.datetime:
        """A lease outlives this invocation by a margin: Lambda ends the invocation at its deadline, so once the
        lease has expired its holder is certainly gone, and another worker may take over."""
        return self.clock() + dt.timedelta(milliseconds=max(0, self.budget.remaining_ms()) + LEASE_MARGIN_MS)
