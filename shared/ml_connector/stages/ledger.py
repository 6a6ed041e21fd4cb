"""Where every record of a run ends up: synced, unchanged, skipped, waiting, or failed. Nothing else.

The ledger writes the audit trail, keeps the open-failure list, and queues retryable failures for retry.

- An effect (a record created, upserted, posted, an image uploaded) is written right after the audit entries that
  explain it (``synced``, ``effect``): an effect is never durable without its history.
- Everything else is buffered; ``flush()`` makes a page durable (audit written, retries queued). A stage saves its
  cursor only after it, so a crash before the flush means the records are read and judged again.
- A waiting record (blocked by something the connector will see change) is listed with its blocker and never queued:
  the stage releases it in the first run after the blocker clears.
- A refused record (not retryable) fails once: audited and listed, never queued. An operator replays it.
- In a retry run (``requeue=False``) failures are not queued again: the retry message itself stays on its queue.

A stage may settle several records at once (``stages.in_flight``): the ledger's buffers and counts are kept under
one lock, and state is written outside it, so one record's writes never wait for another's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ml_connector.domain.sage import InvalidRecord, Page, SageModel
from ml_connector.kinds import Stage
from ml_connector.messages import RecordRetry
from ml_connector.stages.context import StageContext
from ml_connector.stages.result import StageResult
from ml_connector.state.history import SkippedRecord
from ml_connector.state.models import (
    AuditEntry,
    AuditEvent,
    Commit,
    FailedRecord,
    KeyMapping,
    OutstandingInvoice,
    RunCounts,
)

T = TypeVar("T", bound=SageModel)


class RecordLedger:
    def __init__(self, ctx: StageContext, stage: Stage, *, requeue: bool = True) -> None:
        self._ctx = ctx
        self._stage = stage
        self._requeue = requeue
        self._audit: list[AuditEntry] = []
        self._retries: list[RecordRetry] = []
        self._skipped: list[SkippedRecord] = []
        self.counts = RunCounts()
        self.errors: list[str] = []
        self.retryable_failures = 0
        self._open_failures: dict[tuple[str, str], bool] | None = None
        """The customer's open failures as (kind, key) → flagged: read once per run, kept small (a waiting invoice
        per held vendor's bill can number thousands; a whole ``FailedRecord`` is ten times the size)."""
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ outcomes
    def read(self, kind: str, key: str, detail: str) -> None:
        with self._lock:
            self.counts.read += 1
            self._note(kind, key, AuditEvent.READ, detail=detail)

    def synced(
        self,
        kind: str,
        key: str,
        *,
        mapping: KeyMapping,
        detail: str = "",
        event: AuditEvent = AuditEvent.PUSHED,
        lease_owner: str | None = None,
        outstanding_puts: Sequence[OutstandingInvoice] = (),
        outstanding_deletes: Sequence[str] = (),
    ) -> None:
        """The record reached the other system: its mapping and its history are written together."""
        self.effect(
            kind,
            key,
            mapping=mapping,
            detail=detail,
            event=event,
            lease_owner=lease_owner,
            outstanding_puts=outstanding_puts,
            outstanding_deletes=outstanding_deletes,
        )
        with self._lock:
            self.counts.synced += 1
        self._resolve(kind, key)

    def synced_batch(self, kind: str, synced: Sequence[tuple[KeyMapping, str]]) -> None:
        """Many records upserted in one call: (mapping, detail) each; each mapping written with its history."""
        if not synced:
            return
        keys = {mapping.source_key for mapping, _ in synced}
        audit = self._take_audit(kind, keys)
        for mapping, detail in synced:
            audit.append(
                self._entry(kind, mapping.source_key, AuditEvent.PUSHED, detail=detail, remote_id=mapping.remote_id)
            )
        self._ctx.state.commit_batch([mapping for mapping, _ in synced], audit)
        for mapping, _ in synced:
            with self._lock:
                self.counts.synced += 1
            self._resolve(kind, mapping.source_key)

    def effect(
        self,
        kind: str,
        key: str,
        *,
        mapping: KeyMapping | None,
        detail: str,
        event: AuditEvent = AuditEvent.PUSHED,
        lease_owner: str | None = None,
        outstanding_puts: Sequence[OutstandingInvoice] = (),
        outstanding_deletes: Sequence[str] = (),
    ) -> None:
        """Write a change (a new mapping, an image, a flag) with the record's buffered history and this entry."""
        remote_id = mapping.remote_id if mapping is not None else None
        audit = self._take_audit(kind, {key})
        audit.append(self._entry(kind, key, event, detail=detail, remote_id=remote_id))
        self._ctx.state.commit(
            Commit(
                mapping=mapping,
                audit=audit,
                lease_owner=lease_owner,
                outstanding_puts=list(outstanding_puts),
                outstanding_deletes=[(self._ctx.customer_id, k) for k in outstanding_deletes],
            )
        )

    def unchanged(self, kind: str, key: str) -> None:
        """Read again (overlap or replay) with nothing new: not sent, not audited again."""
        with self._lock:
            self.counts.unchanged += 1
        self._resolve(kind, key)

    def skipped(self, kind: str, key: str, reason: str) -> None:
        with self._lock:
            self.counts.skipped += 1
            self._note(kind, key, AuditEvent.SKIPPED, detail=reason)
            self._skipped.append(
                SkippedRecord(
                    customer_id=self._ctx.customer_id,
                    kind=kind,
                    source_key=key,
                    stage=self._stage,
                    reason=reason,
                    at=self._ctx.clock(),
                )
            )
        self._resolve(kind, key)

    def note(
        self,
        kind: str,
        key: str,
        detail: str,
        *,
        remote_id: str | None = None,
        event: AuditEvent = AuditEvent.NOTED,
        sealed_payload: dict[str, str] | None = None,
    ) -> None:
        """An audit entry that does not change the record's outcome (e.g. what it was transformed into)."""
        with self._lock:
            self._note(kind, key, event, detail=detail, remote_id=remote_id, sealed_payload=sealed_payload)

    def waiting(self, kind: str, key: str, reason: str, *, blocked_by: str) -> None:
        with self._lock:
            self.counts.waiting += 1
            self._note(kind, key, AuditEvent.WAITING, detail=reason)
        self._open_failure(kind, key, f"waiting: {reason}", retryable=True, blocked_by=blocked_by)

    def failed(self, kind: str, key: str, error: str, *, retryable: bool, requeue: bool = True) -> None:
        """A retryable failure is queued for retry; a refusal is listed for an operator and never queued.
        ``requeue=False`` when a retry could not help (the source record itself is unreadable)."""
        self._count_failure(kind, key, error)
        self._open_failure(kind, key, error, retryable=retryable)
        if retryable:
            with self._lock:
                self.retryable_failures += 1
                if requeue:
                    self._queue(kind, key, error)

    def drifted(self, kind: str, key: str, error: str) -> None:
        """A pushed record that no longer matches Sage (an invoice paid, removed or changed outside AvidXchange)."""
        with self._lock:
            self.counts.drifted += 1
        self.flagged(kind, key, error)

    def flagged(self, kind: str, key: str, error: str) -> None:
        """A synced record a person must act on: listed until an operator replays it, never queued."""
        self._count_failure(kind, key, error)
        self._open_failure(kind, key, error, retryable=False, flagged=True)

    def unreadable(self, kind: str, invalid: Sequence[InvalidRecord]) -> None:
        """Records that break the contract: failed, listed for an operator (a replay reads them again by key)."""
        for record in invalid:
            self.failed(
                kind,
                record.key,
                "the record breaks the contract: "
                + "; ".join(record.errors)
                + "; correct it at its source, then replay",
                retryable=False,
            )

    def page_handler(self, kind: str, push: Callable[[Sequence[T]], None]) -> Callable[[Page[T], frozenset[str]], None]:
        """A change stream's ``handle_page`` for records pushed a page at a time: the page's unreadable records
        failed, the others pushed, then the page made durable."""

        def handle(page: Page[T], _: frozenset[str]) -> None:
            self.unreadable(kind, page.invalid)
            push(page.items)
            self.flush()

        return handle

    def result(self, complete: bool) -> StageResult:
        return StageResult(complete, self.counts, tuple(self.errors))

    def waiting_records(self, kind: str) -> list[FailedRecord]:
        """The customer's records of this kind that wait on a blocker, read from the state store."""
        failures = self._ctx.state.list_failures(self._ctx.customer_id)
        with self._lock:
            if self._open_failures is None:
                self._open_failures = _flagged_by_record(failures)
        return [f for f in failures if f.kind == kind and f.waiting]

    # ------------------------------------------------------------------ durability
    def flush(self) -> None:
        with self._lock:
            audit, self._audit = self._audit, []
            skipped, self._skipped = self._skipped, []
            retries, self._retries = self._retries, []
        if audit:
            self._ctx.state.append_audit(audit)
        if skipped:  # one batch per page, with the page's audit
            self._ctx.state.put_skipped(skipped)
        if retries:
            self._ctx.retries.send(retries)

    def seal(self, kind: str, key: str, payload: Any) -> dict[str, str]:
        return self._ctx.sealer.seal(payload, {"customer_id": self._ctx.customer_id, "kind": kind, "source_key": key})

    # ------------------------------------------------------------------ helpers
    def _entry(self, kind: str, key: str, event: AuditEvent, **fields: Any) -> AuditEntry:
        return AuditEntry(
            customer_id=self._ctx.customer_id, kind=kind, source_key=key, event=event, at=self._ctx.clock(), **fields
        )

    def _note(self, kind: str, key: str, event: AuditEvent, **fields: Any) -> None:
        self._audit.append(self._entry(kind, key, event, **fields))

    def _count_failure(self, kind: str, key: str, error: str) -> None:
        with self._lock:
            self.counts.failed += 1
            self.errors.append(error if key in error else f"{kind} {key}: {error}")
            self._note(kind, key, AuditEvent.FAILED, error=error)

    def _take_audit(self, kind: str, keys: set[str]) -> list[AuditEntry]:
        """Remove and return the buffered entries of these records (to be written with their effect)."""
        with self._lock:
            taken = [entry for entry in self._audit if entry.kind == kind and entry.source_key in keys]
            self._audit = [entry for entry in self._audit if not (entry.kind == kind and entry.source_key in keys)]
        return taken

    def _failures(self) -> dict[tuple[str, str], bool]:
        """The customer's open failures, read once per run."""
        with self._lock:
            if self._open_failures is None:
                self._open_failures = _flagged_by_record(self._ctx.state.list_failures(self._ctx.customer_id))
            return self._open_failures

    def _resolve(self, kind: str, key: str) -> None:
        """Close the record's open failure, if it has one. A flag stays until an operator replays the record (a
        retry run of a flagged record is always a replay: flags are never queued)."""
        failures = self._failures()
        with self._lock:
            flagged = failures.get((kind, key))
            if flagged is None or (flagged and self._requeue):
                return
            del failures[(kind, key)]
        self._ctx.state.resolve_failure(self._ctx.customer_id, kind, key)

    def _open_failure(
        self, kind: str, key: str, error: str, *, retryable: bool, blocked_by: str | None = None, flagged: bool = False
    ) -> None:
        now = self._ctx.clock()
        stored = self._ctx.state.record_failure(
            FailedRecord(
                customer_id=self._ctx.customer_id,
                kind=kind,
                source_key=key,
                stage=self._stage,
                error=error,
                retryable=retryable,
                attempts=1,
                first_failed_at=now,
                last_failed_at=now,
                blocked_by=blocked_by,
                flagged=flagged,
            )
        )
        failures = self._failures()
        with self._lock:
            failures[(kind, key)] = stored.flagged

    def _queue(self, kind: str, key: str, reason: str) -> None:
        if not self._requeue:
            return
        self._retries.append(
            RecordRetry(
                customer_id=self._ctx.customer_id,
                stage=self._stage,
                kind=kind,
                source_key=key,
                reason=reason,
                first_failed_at=self._ctx.clock(),
            )
        )


def _flagged_by_record(failures: Sequence[FailedRecord]) -> dict[tuple[str, str], bool]:
    return {(f.kind, f.source_key): f.flagged for f in failures}
