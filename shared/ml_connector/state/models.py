"""State records. Times are timezone-aware UTC, except cursor watermarks, which are in the agent's local time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from ml_connector.kinds import Stage
from ml_connector.model import Model


class RunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # finished; some records failed and went to the retry queue
    CONTINUING = "continuing"  # time budget spent; a continuation is queued
    FAILED = "failed"
    CUSTOMER_UNAVAILABLE = "customer_unavailable"

    @property
    def in_flight(self) -> bool:
        return self in (RunState.QUEUED, RunState.RUNNING, RunState.CONTINUING)


class RunCounts(Model):
    model_config = ConfigDict(extra="forbid")

    read: int = 0
    synced: int = 0
    unchanged: int = 0
    skipped: int = 0
    waiting: int = 0
    failed: int = 0
    drifted: int = 0
    """Pushed invoices whose Sage open balance no longer matches what AvidXchange may pay (flagged)."""

    def add(self, other: RunCounts) -> RunCounts:
        return RunCounts(**{name: getattr(self, name) + getattr(other, name) for name in RunCounts.model_fields})


class StageRun(Model):
    customer_id: str
    stage: Stage
    state: RunState
    cycle_id: str
    updated_at: dt.datetime
    queued_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    counts: RunCounts = RunCounts()
    message: str | None = None


class HealthStatus(StrEnum):
    OK = "ok"
    AGENT_OFFLINE = "agent_offline"
    AGENT_CREDENTIALS_REJECTED = "agent_credentials_rejected"
    AVID_CREDENTIALS_REJECTED = "avid_credentials_rejected"
    AVID_UNAVAILABLE = "avid_unavailable"
    MISCONFIGURED = "misconfigured"


class CustomerHealth(Model):
    """Set when a run stops for the customer; the dispatcher leaves it alone until ``retry_at``."""

    customer_id: str
    status: HealthStatus
    reason: str = ""
    since: dt.datetime
    retry_at: dt.datetime | None = None
    consecutive_failures: int = 0


class Cursor(Model):
    """Where a change stream stands.

    ``watermark``: every record updated before it has reached a final state (agent-local time for the Sage
    streams; UTC for the AvidXchange payments stream).
    ``pass_started_at``: set while a pass is in progress: the agent's clock when the pass began, which becomes the
    watermark when the pass completes (records changed during the pass are read again by the next one).
    ``pass_since`` / ``page_cursor``: the ``updated_since`` the pass polls with and the agent's cursor for the next
    page, so a continuation resumes exactly where the last invocation stopped.
    """

    customer_id: str
    stream: str
    watermark: dt.datetime | None = None
    pass_started_at: dt.datetime | None = None
    pass_since: dt.datetime | None = None
    page_cursor: str | None = None
    page_done: list[str] = Field(default_factory=list)
    """Records of the current page already finished (``record_stamp``), when a run stopped mid-page."""
    updated_at: dt.datetime | None = None

    @property
    def in_pass(self) -> bool:
        return self.pass_started_at is not None


class MappingState(StrEnum):
    CLAIMED = "claimed"  # leased: a create is (or was) under way; the remote record may or may not exist
    SYNCED = "synced"


class KeyMapping(Model):
    """A Sage record's key, its AvidXchange id, and the hash of the content last sent."""

    customer_id: str
    kind: str
    source_key: str
    state: MappingState
    remote_id: str | None = None
    content_hash: str | None = None
    claimed_at: dt.datetime | None = None
    synced_at: dt.datetime | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    lease_owner: str | None = None
    """While CLAIMED: the worker that holds the create lease, until ``lease_expires_at``."""
    lease_expires_at: dt.datetime | None = None


class LeaseOutcome(StrEnum):
    ACQUIRED = "acquired"  # nobody tried before: create
    TAKEN_OVER = "taken_over"  # an earlier lease expired without a result: look the record up before creating
    SYNCED = "synced"  # another worker finished it: nothing to create
    HELD = "held"  # another worker holds a live lease: retry later, never look up and create


class Lease(Model):
    """The answer to a lease request; ``mapping`` is the stored one for SYNCED and HELD."""

    outcome: LeaseOutcome
    owner: str
    mapping: KeyMapping | None = None


class OutstandingInvoice(Model):
    """An invoice pushed to AvidXchange and not yet fully paid there: what AvidXchange may still pay.

    The invoices stage compares it with Sage's open balance every cycle; the payments stage lowers it as it posts.
    """

    customer_id: str
    source_key: str
    remote_id: str
    balance: Decimal
    pushed_at: dt.datetime
    flagged: str | None = None
    """Set once a drift was reported (so it is reported once, not every cycle)."""
    paid_by: list[str] = Field(default_factory=list)
    """AvidXchange payments already taken off ``balance`` (a retried post never takes one off twice)."""


class AuditEvent(StrEnum):
    READ = "read"
    TRANSFORMED = "transformed"
    PUSHED = "pushed"
    POSTED = "posted"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    WAITING = "waiting"
    FAILED = "failed"
    RETRIED = "retried"
    REPLAYED = "replayed"
    NOTED = "noted"


class AuditEntry(Model):
    customer_id: str
    kind: str
    source_key: str
    event: AuditEvent
    at: dt.datetime
    detail: str = ""
    remote_id: str | None = None
    error: str | None = None
    # Sensitive payloads are stored only envelope-encrypted (see ml_connector.adapters.envelope).
    sealed_payload: dict[str, str] | None = None


class FailedRecord(Model):
    """An open failure: a record that is in the retry queue or the DLQ and has not succeeded since."""

    customer_id: str
    kind: str
    source_key: str
    stage: Stage
    error: str
    retryable: bool
    attempts: int
    first_failed_at: dt.datetime
    last_failed_at: dt.datetime
    blocked_by: str | None = None
    """Set for a waiting record: what it waits on (``vendor:01-ACME``, ``account:...``, ``value:3:470``). A waiting
    record is not queued: the stage releases it in the first run after its blocker clears."""
    parked: bool = False
    """Its retry found the customer paused: re-queued when the customer is healthy again, not dead-lettered."""
    flagged: bool = False
    """A synced record that no longer matches Sage (drift, a payment voided after posting): for a person to act on.
    Reading the record again does not clear it; an operator's replay of it does."""

    @property
    def waiting(self) -> bool:
        return self.blocked_by is not None


class Commit(Model):
    """One record's effect, written at once: the audit entries that explain it, the outstanding-invoice changes it
    brings and its mapping (conditional on the lease ``lease_owner`` holds, if set)."""

    mapping: KeyMapping | None = None
    audit: list[AuditEntry] = Field(default_factory=list)
    lease_owner: str | None = None
    outstanding_puts: list[OutstandingInvoice] = Field(default_factory=list)
    outstanding_deletes: list[tuple[str, str]] = Field(default_factory=list)
    """(customer id, invoice key) of outstanding invoices now fully paid."""


class CustomerSnapshot(Model):
    """What the dispatcher needs to know of one customer: its stage runs and its health."""

    runs: dict[Stage, StageRun] = Field(default_factory=dict)
    health: CustomerHealth | None = None
