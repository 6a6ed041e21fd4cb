"""What the state keeps for an operator to look back on: finished stage runs, skipped records, published alerts,
and the latest reconciliation and preview of a customer. Everything here but the latest summaries expires (TTL)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import Field

from ml_connector.kinds import Stage
from ml_connector.model import Model


class SkippedRecord(Model):
    """A record skipped on purpose, with why: kept (with a TTL) so `mlc records ID KIND --state skipped` lists it."""

    customer_id: str
    kind: str
    source_key: str
    stage: Stage
    reason: str
    at: dt.datetime


class ReviewTask(StrEnum):
    """Customer-wide reads that change nothing: the scheduled reconciliation, and an onboarding preview."""

    RECONCILE = "reconcile"
    PREVIEW = "preview"


class ReviewRecord(Model):
    """The latest run of a review task for a customer: when it was queued, when it finished, and its summary."""

    customer_id: str
    task: ReviewTask
    queued_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    ok: bool | None = None
    """Reconcile: whether the ledgers agreed; preview: whether it ran to the end."""
    summary: dict[str, Any] = Field(default_factory=dict)
    message: str = ""


class AlertedKind(Model):
    """A kind of failure already published to the alarm topic for a customer: repeats stay quiet."""

    customer_id: str
    kind: str
    """The failure's stage, record kind and reason with its record-specific parts taken out."""
    published_at: dt.datetime
    count: int
