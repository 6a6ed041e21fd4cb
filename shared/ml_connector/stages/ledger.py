"""Where every record of a run ends up: synced, unchanged, skipped, waiting, or failed. Nothing else.

The ledger writes the audit trail, keeps the open-failure list, and queues failed or waiting records for retry.
``flush()`` makes a page durable (audit written, retries queued); a stage saves its cursor only after it.
In a retry run (``requeue=False``) failures are not queued again: the retry message itself stays on its queue.
Waiting records are queued like failures; the retry function's growing back-off paces them until they can go.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ml_connector.domain.sage import InvalidRecord
from ml_connector.retries import RecordRetry
from ml_connector.stage import Stage
from ml_connector.stages.context import StageContext
from ml_connector.stages.result import StageResult
from ml_connector.state.models import AuditEntry, AuditEvent, FailedRecord, RunCounts


class RecordLedger:
    def __init__(self, ctx: StageContext, stage: Stage, *, requeue: bool = True) -> None:
        self._ctx = ctx
        self._stage = stage
        self._requeue = requeue
        self._audit: list[AuditEntry] = []
        self._retries: list[RecordRetry] = []
        self.counts = RunCounts()
        self.errors: list[str] = []
        self._open_failures: set[tuple[str, str]] | None = None

    # ------------------------------------------------------------------ outcomes
    def read(self, kind: str, key: str, detail: str) -> None:
        self.counts.read += 1
        self._note(kind, key, AuditEvent.READ, detail=detail)

    def synced(
        self,
        kind: str,
        key: str,
        *,
        remote_id: str | None,
        detail: str = "",
        event: AuditEvent = AuditEvent.PUSHED,
        sealed_payload: dict[str, str] | None = None,
    ) -> None:
        self.counts.synced += 1
        self._note(kind, key, event, detail=detail, remote_id=remote_id, sealed_payload=sealed_payload)
        self._resolve(kind, key)

    def unchanged(self, kind: str, key: str) -> None:
        """Read again (overlap or replay) with nothing new: not sent, not audited again."""
        self.counts.unchanged += 1
        self._resolve(kind, key)

    def skipped(self, kind: str, key: str, reason: str) -> None:
        self.counts.skipped += 1
        self._note(kind, key, AuditEvent.SKIPPED, detail=reason)
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
        self._note(kind, key, event, detail=detail, remote_id=remote_id, sealed_payload=sealed_payload)

    def waiting(self, kind: str, key: str, reason: str, *, record: dict[str, Any] | None = None) -> None:
        self.counts.waiting += 1
        self._note(kind, key, AuditEvent.WAITING, detail=reason)
        self._open_failure(kind, key, f"waiting: {reason}", retryable=True)
        self._queue(kind, key, reason, record)

    def failed(
        self,
        kind: str,
        key: str,
        error: str,
        *,
        retryable: bool,
        record: dict[str, Any] | None = None,
        sensitive: bool = False,
        requeue: bool = True,
    ) -> None:
        """``requeue=False`` when there is nothing a retry could use (the source record itself is unreadable)."""
        self.counts.failed += 1
        self.errors.append(error if key in error else f"{kind} {key}: {error}")
        self._note(kind, key, AuditEvent.FAILED, error=error)
        self._open_failure(kind, key, error, retryable=retryable)
        if requeue:
            self._queue(kind, key, error, record, sensitive=sensitive)

    def unreadable(self, kind: str, invalid: Sequence[InvalidRecord]) -> None:
        """Records the agent listed but that break Sage's rules: failed, nothing a retry could use."""
        for record in invalid:
            self.failed(
                kind,
                record.key,
                "Sage record breaks the agent contract: " + "; ".join(record.errors) + "; correct it in Sage 100",
                retryable=False,
                requeue=False,
            )

    def result(self, complete: bool) -> StageResult:
        return StageResult(complete, self.counts, tuple(self.errors))

    # ------------------------------------------------------------------ durability
    def flush(self) -> None:
        if self._audit:
            self._ctx.state.append_audit(self._audit)
            self._audit = []
        if self._retries:
            self._ctx.retries.send(self._retries)
            self._retries = []

    def seal(self, kind: str, key: str, payload: Any) -> dict[str, str]:
        return self._ctx.sealer.seal(payload, self._seal_context(kind, key))

    def open_sealed(self, kind: str, key: str, sealed: dict[str, str]) -> Any:
        return self._ctx.sealer.open(sealed, self._seal_context(kind, key))

    # ------------------------------------------------------------------ helpers
    def _seal_context(self, kind: str, key: str) -> dict[str, str]:
        return {"customer_id": self._ctx.customer_id, "kind": kind, "source_key": key}

    def _note(self, kind: str, key: str, event: AuditEvent, **fields: Any) -> None:
        self._audit.append(
            AuditEntry(
                customer_id=self._ctx.customer_id,
                kind=kind,
                source_key=key,
                event=event,
                at=self._ctx.clock(),
                **fields,
            )
        )

    def _resolve(self, kind: str, key: str) -> None:
        """Close the record's open failure, if it has one (the customer's open failures are read once per run)."""
        if self._open_failures is None:
            self._open_failures = {(f.kind, f.source_key) for f in self._ctx.state.list_failures(self._ctx.customer_id)}
        if (kind, key) in self._open_failures:
            self._ctx.state.resolve_failure(self._ctx.customer_id, kind, key)
            self._open_failures.discard((kind, key))

    def _open_failure(self, kind: str, key: str, error: str, *, retryable: bool) -> None:
        if self._open_failures is not None:
            self._open_failures.add((kind, key))
        now = self._ctx.clock()
        self._ctx.state.record_failure(
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
            )
        )

    def _queue(
        self,
        kind: str,
        key: str,
        reason: str,
        record: dict[str, Any] | None,
        *,
        sensitive: bool = False,
    ) -> None:
        if not self._requeue:
            return
        self._retries.append(
            RecordRetry(
                customer_id=self._ctx.customer_id,
                stage=self._stage,
                kind=kind,
                source_key=key,
                reason=reason,
                record=None if sensitive else record,
                sealed_record=self.seal(kind, key, record) if sensitive and record is not None else None,
                first_failed_at=self._ctx.clock(),
            )
        )
