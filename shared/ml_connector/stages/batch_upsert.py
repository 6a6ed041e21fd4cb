"""Upserts a page of records in AvidXchange's batch endpoints, one final state per record.

Unchanged records (same content hash as last sent) are not sent. Each item's own result decides its fate: a batch
answers HTTP 200 even when some items were refused, and each refused item fails alone (audited and listed).
The records that went through are stored in batches, each record's mapping in one transaction with its history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from ml_connector.domain.avid import BatchItemResult
from ml_connector.domain.hashing import content_hash
from ml_connector.errors import RecordRejected, RetryLater
from ml_connector.stages.context import StageContext
from ml_connector.stages.ledger import RecordLedger
from ml_connector.state.models import AuditEvent, KeyMapping, MappingState

M = TypeVar("M", bound=BaseModel)
SOURCE_UPDATED_AT = "source_updated_at"


@dataclass(frozen=True)
class Upsert(Generic[M]):
    source_key: str
    payload: M
    source_updated_at: dt.datetime
    """When Sage last changed the record (agent-local time)."""
    read_detail: str
    details: dict[str, Any] = field(default_factory=dict)
    sensitive: bool = False


def upsert_batch(
    ctx: StageContext,
    ledger: RecordLedger,
    kind: str,
    upserts: Sequence[Upsert[M]],
    send: Callable[[list[M]], list[BatchItemResult]],
) -> list[Upsert[M]]:
    """Send what changed; returns the upserts that reached AvidXchange (for callers that track more state)."""
    existing = ctx.state.get_mappings(ctx.customer_id, kind, (u.source_key for u in upserts))
    changed: list[tuple[Upsert[M], str]] = []
    for upsert in upserts:
        digest = content_hash(upsert.payload)
        mapping = existing.get(upsert.source_key)
        if mapping is not None and mapping.state is MappingState.SYNCED:
            if mapping.content_hash == digest:
                _note_state_change(ctx, ledger, kind, upsert, mapping)
                ledger.unchanged(kind, upsert.source_key)
                continue
            synced_version = mapping.details.get(SOURCE_UPDATED_AT)
            if synced_version is not None and str(synced_version) > upsert.source_updated_at.isoformat():
                # A retry or replay of an older version: never overwrite newer data in AvidXchange with it.
                ledger.skipped(
                    kind, upsert.source_key, f"superseded: the version changed in Sage {synced_version} is synced"
                )
                continue
        ledger.read(kind, upsert.source_key, upsert.read_detail)
        sealed = (
            ledger.seal(kind, upsert.source_key, upsert.payload.model_dump(mode="json")) if upsert.sensitive else None
        )
        ledger.note(
            kind,
            upsert.source_key,
            f"transformed; content sha256 {digest}" + ("" if sealed else f": {upsert.payload.model_dump_json()}"),
            event=AuditEvent.TRANSFORMED,
            sealed_payload=sealed,
        )
        changed.append((upsert, digest))
    if not changed:
        return []
    try:
        results = send([u.payload for u, _ in changed])
    except (RetryLater, RecordRejected) as error:
        for upsert, _ in changed:
            ledger.failed(kind, upsert.source_key, str(error), retryable=isinstance(error, RetryLater))
        return []
    delivered = []
    stored: list[tuple[KeyMapping, str]] = []
    for (upsert, digest), result in zip(changed, results, strict=True):
        if result.successful:
            stored.append((_mapping(ctx, kind, upsert, digest, result.id), "upserted in AvidXchange"))
            delivered.append(upsert)
        else:
            reason = "AvidXchange refused it: " + ("; ".join(result.errors) or "no reason given")
            ledger.failed(kind, upsert.source_key, reason, retryable=False)
    ledger.synced_batch(kind, stored)
    return delivered


def _note_state_change(
    ctx: StageContext, ledger: RecordLedger, kind: str, upsert: Upsert[Any], mapping: KeyMapping
) -> None:
    """AvidXchange's copy is the same, but what the connector keeps of the record's Sage state (a vendor's status or
    hold, which decide whether its invoices go) changed: keep it, or invoices would follow a stale state."""
    kept = {k: v for k, v in mapping.details.items() if k != SOURCE_UPDATED_AT}
    if kept == upsert.details:
        return
    details = {**upsert.details, SOURCE_UPDATED_AT: upsert.source_updated_at.isoformat()}
    changed = ", ".join(f"{k} {kept.get(k)!r} -> {v!r}" for k, v in upsert.details.items() if kept.get(k) != v)
    ledger.effect(
        kind,
        upsert.source_key,
        mapping=mapping.model_copy(update={"details": details, "synced_at": ctx.clock()}),
        detail=f"changed in Sage ({changed}); AvidXchange's copy is unchanged, so nothing was sent",
        event=AuditEvent.NOTED,
    )


def _mapping(ctx: StageContext, kind: str, upsert: Upsert[Any], digest: str, remote_id: str | None) -> KeyMapping:
    return KeyMapping(
        customer_id=ctx.customer_id,
        kind=kind,
        source_key=upsert.source_key,
        state=MappingState.SYNCED,
        remote_id=remote_id,
        content_hash=digest,
        synced_at=ctx.clock(),
        details={**upsert.details, SOURCE_UPDATED_AT: upsert.source_updated_at.isoformat()},
    )
