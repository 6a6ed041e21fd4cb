"""A preview (dry run) of a stage: the real stage function against write-free stand-ins of its ports.

Reads go to the real systems and the real state; every write is kept in memory instead: AvidXchange's upserts,
creates and uploads are recorded and answered with made-up ids, Sage's manual checks are recorded, the state's
mappings, leases, commits, cursors, failures, audit and outstanding balances stay in memory (and are read back by the
rest of the preview), and retries are recorded, never queued. What was kept is the report: what the stage would
create, update, deactivate or post, and the records it would skip, leave waiting or fail, with their reasons.

The stage modules are unchanged: a preview runs exactly the code a real run does.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import Field

from ml_connector.domain.avid import (
    AvidCompany,
    AvidInvoice,
    AvidPayment,
    AvidVendor,
    AvidVendorRecord,
    BatchItemResult,
    EnterpriseCode,
    EnterpriseCodeRecord,
    InvoiceStatus,
    NewInvoice,
    PaymentWindow,
)
from ml_connector.domain.sage import (
    AgentHealth,
    CompanyInfo,
    GLAccount,
    GLSegment,
    ManualCheck,
    ManualCheckResult,
    OpenInvoice,
    Page,
    RecordedManualCheck,
    SageVendor,
    SegmentValue,
)
from ml_connector.kinds import Stage
from ml_connector.messages import RecordRetry
from ml_connector.model import Model
from ml_connector.ports import AvidConnect, InvoiceImage, SageAgent, StateStore
from ml_connector.stages.context import StageContext
from ml_connector.stages.gl import sync_gl
from ml_connector.stages.invoices import push_invoices
from ml_connector.stages.payments import post_payments
from ml_connector.stages.runner import StageFunction
from ml_connector.stages.vendors import sync_vendors
from ml_connector.state.history import AlertedKind, ReviewRecord, ReviewTask, SkippedRecord
from ml_connector.state.models import (
    AuditEntry,
    Commit,
    Cursor,
    CustomerHealth,
    CustomerSnapshot,
    FailedRecord,
    KeyMapping,
    Lease,
    LeaseOutcome,
    MappingState,
    OutstandingInvoice,
    RunCounts,
    RunState,
    StageRun,
)

S = TypeVar("S")
V = TypeVar("V")

PREVIEW_ID_PREFIX = "preview-"
# A preview keeps going through continuations until its stage is done; this many at most (a safety net).
MAX_CONTINUATIONS = 1000

Operation = Literal["upsert", "deactivate", "create", "upload image", "post manual check"]
Change = Literal["create", "update", "post"]
Outcome = Literal["skipped", "waiting", "failed"]


class PreviewCall(Model):
    """A write the stage would have made to AvidXchange or Sage 100."""

    system: Literal["AvidXchange", "Sage 100"]
    operation: Operation
    key: str
    detail: str = ""


class PreviewChange(Model):
    """A record that would be synced: created or updated in AvidXchange, or posted to Sage 100."""

    kind: str
    source_key: str
    change: Change


class PreviewOutcome(Model):
    """A record that would not go through, and why."""

    kind: str
    source_key: str
    outcome: Outcome
    reason: str


class StagePreview(Model):
    stage: Stage
    complete: bool
    counts: RunCounts
    changes: list[PreviewChange] = Field(default_factory=list)
    calls: list[PreviewCall] = Field(default_factory=list)
    outcomes: list[PreviewOutcome] = Field(default_factory=list)
    retries: int = 0
    """Records a real run would put on the retry queue."""

    def summary(self) -> dict[str, Any]:
        tally: dict[str, int] = {}
        for change in self.changes:
            tally[change.change] = tally.get(change.change, 0) + 1
        for call in self.calls:
            if call.operation == "deactivate":
                tally["deactivate"] = tally.get("deactivate", 0) + 1
        for outcome in self.outcomes:
            tally[outcome.outcome] = tally.get(outcome.outcome, 0) + 1
        return {"stage": self.stage.value, "complete": self.complete, **tally}


class PreviewReport(Model):
    customer_id: str
    started_at: dt.datetime
    stages: list[StagePreview]

    def summary(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "stages": [s.summary() for s in self.stages]}


# ---------------------------------------------------------------------------------------------- the two systems
@dataclass
class RecordingAvid:
    """AvidConnect that reads through to the real one and records its writes, answered with made-up ids."""

    real: AvidConnect
    calls: list[PreviewCall] = field(default_factory=list)
    created: dict[str, AvidInvoice] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def _made_up_id(self) -> str:
        return f"{PREVIEW_ID_PREFIX}{next(self._ids)}"

    def _upserted(self, key: str, active: bool, what: str) -> BatchItemResult:
        self.calls.append(
            PreviewCall(system="AvidXchange", operation="upsert" if active else "deactivate", key=key, detail=what)
        )
        return BatchItemResult(successful=True, item={"Id": self._made_up_id()})

    def company(self) -> AvidCompany:
        return self.real.company()

    def upsert_vendors(self, vendors: Sequence[AvidVendor]) -> list[BatchItemResult]:
        return [self._upserted(v.key, v.active, f"vendor {v.name}") for v in vendors]

    def find_vendor(self, external_vendor_code: str) -> AvidVendorRecord | None:
        return self.real.find_vendor(external_vendor_code)

    def iter_vendors(self, *, last_modified_from: dt.datetime | None = None) -> Iterator[AvidVendorRecord]:
        return self.real.iter_vendors(last_modified_from=last_modified_from)

    def upsert_enterprise_codes(self, codes: Sequence[EnterpriseCode]) -> list[BatchItemResult]:
        return [self._upserted(c.key, c.is_active, f"code {c.description}".rstrip()) for c in codes]

    def iter_enterprise_codes(self, *, group_name: str | None = None) -> Iterator[EnterpriseCodeRecord]:
        return self.real.iter_enterprise_codes(group_name=group_name)

    def create_invoice(self, invoice: NewInvoice) -> AvidInvoice:
        created = AvidInvoice.model_validate(
            {**invoice.model_dump(), "id": self._made_up_id(), "status": InvoiceStatus.RECEIVED}
        )
        self.created[created.id] = created
        self.calls.append(
            PreviewCall(system="AvidXchange", operation="create", key=invoice.key, detail=f"{invoice.gross_amount}")
        )
        return created

    def find_invoices(self, *, vendor_external_code: str, number: str) -> list[AvidInvoice]:
        return self.real.find_invoices(vendor_external_code=vendor_external_code, number=number)

    def get_invoice(self, invoice_id: str) -> AvidInvoice | None:
        if invoice_id.startswith(PREVIEW_ID_PREFIX):
            return self.created.get(invoice_id)
        return self.real.get_invoice(invoice_id)

    def iter_invoices(self, *, last_changed_from: dt.datetime | None = None) -> Iterator[AvidInvoice]:
        return self.real.iter_invoices(last_changed_from=last_changed_from)

    def upload_invoice_image(
        self, invoice_id: str, *, filename: str, content_type: str, content: Iterable[bytes]
    ) -> None:
        # The image is not downloaded from Sage: a preview of a first sync would otherwise move every scan.
        self.calls.append(
            PreviewCall(system="AvidXchange", operation="upload image", key=filename, detail=content_type)
        )

    def payment_windows(self, *, modified_from: dt.datetime, modified_to: dt.datetime) -> Iterator[PaymentWindow]:
        return self.real.payment_windows(modified_from=modified_from, modified_to=modified_to)

    def iter_payments(self, *, modified_from: dt.datetime, modified_to: dt.datetime) -> Iterator[AvidPayment]:
        return self.real.iter_payments(modified_from=modified_from, modified_to=modified_to)

    def get_payment(self, payment_id: str) -> AvidPayment | None:
        return self.real.get_payment(payment_id)


class RecordingAgent:
    """The Sage 100 agent for reading; a manual check is recorded, not posted."""

    def __init__(self, real: SageAgent) -> None:
        self.real = real
        self.calls: list[PreviewCall] = []

    def health(self) -> AgentHealth:
        return self.real.health()

    def ping(self) -> CompanyInfo:
        return self.real.ping()

    def vendors_page(
        self, *, updated_since: dt.datetime | None, cursor: str | None = None, limit: int | None = None
    ) -> Page[SageVendor]:
        return self.real.vendors_page(updated_since=updated_since, cursor=cursor, limit=limit)

    def gl_accounts_page(
        self, *, updated_since: dt.datetime | None, cursor: str | None = None, limit: int | None = None
    ) -> Page[GLAccount]:
        return self.real.gl_accounts_page(updated_since=updated_since, cursor=cursor, limit=limit)

    def gl_segments(self) -> list[GLSegment]:
        return self.real.gl_segments()

    def segment_values_page(
        self,
        *,
        segment_no: int,
        updated_since: dt.datetime | None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[SegmentValue]:
        return self.real.segment_values_page(
            segment_no=segment_no, updated_since=updated_since, cursor=cursor, limit=limit
        )

    def open_invoices_page(
        self,
        *,
        updated_since: dt.datetime | None,
        invoice_date_from: dt.date | None = None,
        division: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[OpenInvoice]:
        return self.real.open_invoices_page(
            updated_since=updated_since,
            invoice_date_from=invoice_date_from,
            division=division,
            cursor=cursor,
            limit=limit,
        )

    def open_invoice(self, division: str, vendor_no: str, invoice_no: str) -> OpenInvoice | None:
        return self.real.open_invoice(division, vendor_no, invoice_no)

    def vendor(self, division: str, vendor_no: str) -> SageVendor | None:
        return self.real.vendor(division, vendor_no)

    def gl_account(self, account_key: str) -> GLAccount | None:
        return self.real.gl_account(account_key)

    def segment_value(self, segment_no: int, code: str) -> SegmentValue | None:
        return self.real.segment_value(segment_no, code)

    def invoice_image(
        self, division: str, vendor_no: str, invoice_no: str
    ) -> AbstractContextManager[InvoiceImage | None]:
        return self.real.invoice_image(division, vendor_no, invoice_no)

    def manual_check(self, bank_code: str, check_no: str) -> RecordedManualCheck | None:
        return self.real.manual_check(bank_code, check_no)

    def post_manual_check(self, check: ManualCheck) -> ManualCheckResult:
        invoices = ", ".join(line.invoice_no for line in check.lines)
        self.calls.append(
            PreviewCall(
                system="Sage 100",
                operation="post manual check",
                key=check.key,
                detail=f"{check.ap_division_no}-{check.vendor_no} {check.check_amount} for {invoices}",
            )
        )
        return ManualCheckResult(
            bank_code=check.bank_code, check_no=check.check_no, posted=True, check_amt=check.check_amount
        )


@dataclass
class RecordingRetries:
    sent: list[RecordRetry] = field(default_factory=list)

    def send(self, retries: Sequence[RecordRetry]) -> None:
        self.sent.extend(retries)


class DiscardingSealer:
    """Nothing of a preview is stored, so nothing needs sealing (and no key is used)."""

    def seal(self, payload: Any, context: dict[str, str]) -> dict[str, str]:
        return {"preview": "not stored"}

    def open(self, sealed: dict[str, str], context: dict[str, str]) -> Any:
        raise ValueError("a preview stores no sealed payloads")


# ---------------------------------------------------------------------------------------------- the state
_DELETED = None


class _Overlay(Generic[S, V]):
    """Records a preview wrote, over the real store's, by scope and source key: a kept record hides the real one;
    ``_DELETED`` marks one deleted."""

    def __init__(self) -> None:
        self.kept: dict[tuple[S, str], V | None] = {}

    def put(self, scope: S, source_key: str, record: V | None) -> None:
        self.kept[(scope, source_key)] = record

    def get(self, scope: S, source_key: str, read: Callable[[], V | None]) -> V | None:
        key = (scope, source_key)
        return self.kept[key] if key in self.kept else read()

    def get_many(self, scope: S, source_keys: Iterable[str], read: Callable[[list[str]], dict[str, V]]) -> dict[str, V]:
        """``read`` is asked only for the keys not kept."""
        keys = list(dict.fromkeys(source_keys))
        found = read([k for k in keys if (scope, k) not in self.kept])
        for k in keys:
            kept = self.kept.get((scope, k))
            if kept is not None:
                found[k] = kept
        return found

    def iterate(self, scope: S, real: Iterable[V], source_key: Callable[[V], str]) -> Iterator[V]:
        """The real records not kept, then the kept ones."""
        for record in real:
            if (scope, source_key(record)) not in self.kept:
                yield record
        for (s, _), kept in list(self.kept.items()):
            if s == scope and kept is not None:
                yield kept


def _source_key(record: KeyMapping | OutstandingInvoice) -> str:
    return record.source_key


class PreviewStateStore:
    """Reads through to the real store; every write stays in memory and is read back by the rest of the preview."""

    def __init__(self, real: StateStore) -> None:
        self.real = real
        self.mappings = _Overlay[tuple[str, str], KeyMapping]()
        """By (customer, kind) and source key."""
        self.cursors: dict[tuple[str, str], Cursor] = {}
        self.audit_entries = 0
        """Audit entries the run would have written (only counted: a preview keeps no history)."""
        self.failures: dict[tuple[str, str, str], FailedRecord | None] = {}
        self.outstanding = _Overlay[str, OutstandingInvoice]()
        """By customer and source key."""
        self.skipped: list[SkippedRecord] = []
        self.synced_keys: dict[str, list[str]] = {}
        """Kind -> source keys whose mapping the preview wrote as synced, in order."""

    # -- runs, health, reviews, alerts: read through; a preview records no run, pause or alert
    def get_run(self, customer_id: str, stage: Stage) -> StageRun | None:
        return self.real.get_run(customer_id, stage)

    def list_runs(self, customer_id: str) -> list[StageRun]:
        return self.real.list_runs(customer_id)

    def snapshots(self, customer_ids: Sequence[str], stages: Sequence[Stage]) -> dict[str, CustomerSnapshot]:
        return self.real.snapshots(customer_ids, stages)

    def try_mark_queued(
        self, customer_id: str, stage: Stage, cycle_id: str, now: dt.datetime, stale_after: dt.timedelta
    ) -> bool:
        return False

    def mark_running(self, customer_id: str, stage: Stage, cycle_id: str, now: dt.datetime) -> None:
        pass

    def mark_finished(
        self,
        customer_id: str,
        stage: Stage,
        state: RunState,
        counts: RunCounts,
        now: dt.datetime,
        message: str | None = None,
        *,
        cycle_id: str,
    ) -> None:
        pass

    def get_health(self, customer_id: str) -> CustomerHealth | None:
        return self.real.get_health(customer_id)

    def put_health(self, health: CustomerHealth) -> None:
        pass

    def archive_run(self, customer_id: str, stage: Stage) -> None:
        pass

    def recent_runs(self, customer_id: str, stage: Stage, limit: int) -> list[StageRun]:
        return self.real.recent_runs(customer_id, stage, limit)

    def get_review(self, customer_id: str, task: ReviewTask) -> ReviewRecord | None:
        return self.real.get_review(customer_id, task)

    def get_reviews(self, customer_ids: Sequence[str], task: ReviewTask) -> dict[str, ReviewRecord]:
        return self.real.get_reviews(customer_ids, task)

    def try_mark_review_queued(
        self, customer_id: str, task: ReviewTask, now: dt.datetime, *, unless_queued_after: dt.datetime
    ) -> bool:
        return False

    def put_review_result(self, review: ReviewRecord) -> None:
        pass

    def claim_alert(self, alert: AlertedKind) -> bool:
        return False

    # -- cursors
    def get_cursor(self, customer_id: str, stream: str) -> Cursor:
        kept = self.cursors.get((customer_id, stream))
        return kept if kept is not None else self.real.get_cursor(customer_id, stream)

    def save_cursor(self, cursor: Cursor) -> None:
        self.cursors[(cursor.customer_id, cursor.stream)] = cursor

    # -- mappings and leases
    def get_mapping(self, customer_id: str, kind: str, source_key: str) -> KeyMapping | None:
        return self.mappings.get(
            (customer_id, kind), source_key, lambda: self.real.get_mapping(customer_id, kind, source_key)
        )

    def get_mappings(self, customer_id: str, kind: str, source_keys: Iterable[str]) -> dict[str, KeyMapping]:
        return self.mappings.get_many(
            (customer_id, kind), source_keys, lambda keys: self.real.get_mappings(customer_id, kind, keys)
        )

    def iter_mappings(self, customer_id: str, kind: str) -> Iterator[KeyMapping]:
        yield from self.mappings.iterate((customer_id, kind), self.real.iter_mappings(customer_id, kind), _source_key)

    def acquire_lease(
        self, customer_id: str, kind: str, source_key: str, *, owner: str, now: dt.datetime, expires_at: dt.datetime
    ) -> Lease:
        existing = self.get_mapping(customer_id, kind, source_key)
        if existing is not None and existing.state is MappingState.SYNCED:
            return Lease(outcome=LeaseOutcome.SYNCED, owner=owner, mapping=existing)
        live = existing is not None and existing.lease_expires_at is not None and existing.lease_expires_at > now
        if existing is not None and live and existing.lease_owner != owner:
            return Lease(outcome=LeaseOutcome.HELD, owner=owner, mapping=existing)
        self.mappings.put(
            (customer_id, kind),
            source_key,
            KeyMapping(
                customer_id=customer_id,
                kind=kind,
                source_key=source_key,
                state=MappingState.CLAIMED,
                claimed_at=now,
                lease_owner=owner,
                lease_expires_at=expires_at,
            ),
        )
        return Lease(outcome=LeaseOutcome.ACQUIRED if existing is None else LeaseOutcome.TAKEN_OVER, owner=owner)

    def put_mapping(self, mapping: KeyMapping) -> None:
        self._keep_mapping(mapping)

    def release_lease(self, customer_id: str, kind: str, source_key: str, owner: str) -> None:
        self.mappings.put((customer_id, kind), source_key, _DELETED)

    def commit(self, commit: Commit) -> None:
        self.audit_entries += len(commit.audit)
        if commit.mapping is not None:
            self._keep_mapping(commit.mapping)
        for outstanding in commit.outstanding_puts:
            self.put_outstanding(outstanding)
        for customer_id, key in commit.outstanding_deletes:
            self.outstanding.put(customer_id, key, _DELETED)

    def commit_batch(self, mappings: Sequence[KeyMapping], audit: Sequence[AuditEntry]) -> None:
        self.audit_entries += len(audit)
        for mapping in mappings:
            self._keep_mapping(mapping)

    def _keep_mapping(self, mapping: KeyMapping) -> None:
        self.mappings.put((mapping.customer_id, mapping.kind), mapping.source_key, mapping)
        if mapping.state is MappingState.SYNCED and mapping.source_key not in self.synced_keys.get(mapping.kind, []):
            self.synced_keys.setdefault(mapping.kind, []).append(mapping.source_key)

    # -- outstanding invoices
    def list_outstanding(self, customer_id: str) -> Iterator[OutstandingInvoice]:
        yield from self.outstanding.iterate(customer_id, self.real.list_outstanding(customer_id), _source_key)

    def get_outstanding(self, customer_id: str, source_keys: Iterable[str]) -> dict[str, OutstandingInvoice]:
        return self.outstanding.get_many(
            customer_id, source_keys, lambda keys: self.real.get_outstanding(customer_id, keys)
        )

    def put_outstanding(self, outstanding: OutstandingInvoice) -> None:
        self.outstanding.put(outstanding.customer_id, outstanding.source_key, outstanding)

    # -- audit, skipped records, failures
    def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        self.audit_entries += len(entries)

    def list_audit(self, customer_id: str, kind: str, source_key: str) -> list[AuditEntry]:
        return self.real.list_audit(customer_id, kind, source_key)

    def put_skipped(self, records: Sequence[SkippedRecord]) -> None:
        self.skipped += records

    def list_skipped(self, customer_id: str, kind: str) -> list[SkippedRecord]:
        kept = [s for s in self.skipped if (s.customer_id, s.kind) == (customer_id, kind)]
        return self.real.list_skipped(customer_id, kind) + kept

    def record_failure(self, failure: FailedRecord) -> FailedRecord:
        key = (failure.customer_id, failure.kind, failure.source_key)
        previous = self.get_failure(*key)
        stored = failure
        if previous is not None:
            stored = failure.model_copy(
                update={"attempts": previous.attempts + 1, "first_failed_at": previous.first_failed_at}
            )
        self.failures[key] = stored
        return stored

    def _open_failure(self, customer_id: str, kind: str, source_key: str) -> FailedRecord | None:
        found = [f for f in self.real.list_failures(customer_id) if (f.kind, f.source_key) == (kind, source_key)]
        return found[0] if found else None

    def set_parked(self, customer_id: str, kind: str, source_key: str, *, parked: bool) -> None:
        failure = self.get_failure(customer_id, kind, source_key)
        if failure is not None:
            self.failures[(customer_id, kind, source_key)] = failure.model_copy(update={"parked": parked})

    def get_failure(self, customer_id: str, kind: str, source_key: str) -> FailedRecord | None:
        key = (customer_id, kind, source_key)
        return self.failures[key] if key in self.failures else self._open_failure(*key)

    def resolve_failure(self, customer_id: str, kind: str, source_key: str) -> bool:
        existed = self.get_failure(customer_id, kind, source_key) is not None
        self.failures[(customer_id, kind, source_key)] = _DELETED
        return existed

    def list_failures(self, customer_id: str | None = None) -> list[FailedRecord]:
        real = [
            f
            for f in self.real.list_failures(customer_id)
            if (f.customer_id, f.kind, f.source_key) not in self.failures
        ]
        kept = [f for f in self.failures.values() if f is not None and customer_id in (None, f.customer_id)]
        return real + kept


# ---------------------------------------------------------------------------------------------- running one


def preview_stage(
    stage: Stage,
    stage_function: StageFunction,
    ctx: StageContext,
    *,
    clock: Callable[[], dt.datetime],
) -> tuple[StagePreview, StageContext]:
    """Run ``stage_function`` over write-free stand-ins of ``ctx``'s ports, through its continuations, and report.

    Returns the preview and the context it ran in (pass it to the next stage of a cycle's preview, so the invoices
    preview sees the vendors the vendors preview would have synced)."""
    store = ctx.state if isinstance(ctx.state, PreviewStateStore) else PreviewStateStore(ctx.state)
    avid = ctx.avid if isinstance(ctx.avid, RecordingAvid) else RecordingAvid(ctx.avid)
    agent = ctx.agent if isinstance(ctx.agent, RecordingAgent) else RecordingAgent(ctx.agent)
    retries = RecordingRetries()
    preview_ctx = StageContext(
        customer=ctx.customer,
        agent=agent,
        avid=avid,
        state=store,
        retries=retries,
        sealer=DiscardingSealer(),
        budget=ctx.budget,
        clock=clock,
        worker_id=ctx.worker_id,
    )
    seen = (len(avid.calls), len(agent.calls), len(store.skipped), dict(store.failures), _synced_counts(store))
    counts, complete = RunCounts(), False
    for _ in range(MAX_CONTINUATIONS):
        result = stage_function(preview_ctx)
        counts = counts.add(result.counts)
        if result.complete:
            complete = True
            break
        if ctx.budget.exhausted():  # an invocation's time is up: the preview says it stopped before the end
            break
    calls = avid.calls[seen[0] :] + agent.calls[seen[1] :]
    return (
        StagePreview(
            stage=stage,
            complete=complete,
            counts=counts,
            changes=_changes(ctx, store, seen[4]),
            calls=calls,
            outcomes=_outcomes(store, seen[2], seen[3]),
            retries=len(retries.sent),
        ),
        preview_ctx,
    )


def _synced_counts(store: PreviewStateStore) -> dict[str, int]:
    return {kind: len(keys) for kind, keys in store.synced_keys.items()}


def _changes(ctx: StageContext, store: PreviewStateStore, before: dict[str, int]) -> list[PreviewChange]:
    changes = []
    for kind, keys in store.synced_keys.items():
        fresh = keys[before.get(kind, 0) :]
        existing = store.real.get_mappings(ctx.customer_id, kind, fresh)
        for key in fresh:
            if kind == "payment":
                change: Change = "post"
            elif key in existing and existing[key].state is MappingState.SYNCED:
                change = "update"
            else:
                change = "create"
            changes.append(PreviewChange(kind=kind, source_key=key, change=change))
    return changes


def _outcomes(
    store: PreviewStateStore, skipped_before: int, failures_before: dict[tuple[str, str, str], FailedRecord | None]
) -> list[PreviewOutcome]:
    outcomes = [
        PreviewOutcome(kind=s.kind, source_key=s.source_key, outcome="skipped", reason=s.reason)
        for s in store.skipped[skipped_before:]
    ]
    for key, failure in store.failures.items():
        if failure is None or failures_before.get(key) == failure:
            continue
        outcome: Outcome = "waiting" if failure.waiting else "failed"
        outcomes.append(PreviewOutcome(kind=key[1], source_key=key[2], outcome=outcome, reason=failure.error))
    return outcomes


# What a preview runs for each stage: the very functions the stage functions run, on a state overlay.
STAGE_FUNCTIONS: dict[Stage, StageFunction] = {
    Stage.VENDORS: sync_vendors,
    Stage.GL: sync_gl,
    Stage.INVOICES: push_invoices,
    Stage.PAYMENTS: post_payments,
}


def preview_stages(ctx: StageContext, stages: Sequence[Stage], *, clock: Callable[[], dt.datetime]) -> PreviewReport:
    """Preview stages in order, each seeing what the ones before it would have written."""
    started_at = clock()
    previews = []
    for stage in stages:
        preview, ctx = preview_stage(stage, STAGE_FUNCTIONS[stage], ctx, clock=clock)
        previews.append(preview)
    return PreviewReport(customer_id=ctx.customer_id, started_at=started_at, stages=previews)
