"""In-memory fakes of the connector's ports, for millisecond tests of the sync rules.

Each fake keeps the rule its real counterpart enforces where a stage relies on it: the state store's conditional
writes (leases, transactions), AvidXchange creating a duplicate when asked twice, Sage answering 409 for a CheckNo it
already holds. Failures are injected by name (``fail_next``), never by timing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS, DataRecord

from ml_connector.bootstrap import Adapters
from ml_connector.customers import Customer, InvalidCustomer
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
from ml_connector.errors import PaymentAlreadyExists
from ml_connector.kinds import Stage
from ml_connector.messages import RecordRetry, ReviewOrder, WorkOrder
from ml_connector.ports import AvidConnect, Backlog, SageAgent
from ml_connector.stages.context import StageContext, TimeBudget
from ml_connector.state.dynamodb import LeaseLost
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

AGENT_NOW = dt.datetime(2026, 12, 1, 9, 0, 0)


class Faults:
    """Named calls that fail next: ``faults.fail_next("create_invoice", AvidRejected("..."))``."""

    def __init__(self) -> None:
        self._next: dict[str, list[BaseException]] = {}

    def fail_next(self, call: str, *errors: BaseException) -> None:
        self._next.setdefault(call, []).extend(errors)

    def check(self, call: str) -> None:
        pending = self._next.get(call)
        if pending:
            raise pending.pop(0)


class FakeStateStore:
    """The StateStore port in memory, with DynamoDB's conditional-write semantics where stages rely on them."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.runs: dict[tuple[str, Stage], StageRun] = {}
        self.health: dict[str, CustomerHealth] = {}
        self.cursors: dict[tuple[str, str], Cursor] = {}
        self.mappings: dict[tuple[str, str, str], KeyMapping] = {}
        self.audit: list[AuditEntry] = []
        self.failures: dict[tuple[str, str, str], FailedRecord] = {}
        self.outstanding: dict[tuple[str, str], OutstandingInvoice] = {}
        self.run_history: list[StageRun] = []
        self.skipped: dict[tuple[str, str, str], SkippedRecord] = {}
        self.reviews: dict[tuple[str, ReviewTask], ReviewRecord] = {}
        self.alerted: dict[tuple[str, str], AlertedKind] = {}

    # -- runs and health
    def get_run(self, customer_id: str, stage: Stage) -> StageRun | None:
        return self.runs.get((customer_id, stage))

    def list_runs(self, customer_id: str) -> list[StageRun]:
        return [run for (c, _), run in self.runs.items() if c == customer_id]

    def snapshots(self, customer_ids: Sequence[str], stages: Sequence[Stage]) -> dict[str, CustomerSnapshot]:
        return {
            c: CustomerSnapshot(
                runs={s: r for s in stages if (r := self.runs.get((c, s))) is not None}, health=self.health.get(c)
            )
            for c in customer_ids
        }

    def try_mark_queued(
        self, customer_id: str, stage: Stage, cycle_id: str, now: dt.datetime, stale_after: dt.timedelta
    ) -> bool:
        with self._lock:
            run = self.runs.get((customer_id, stage))
            if run is not None and run.state.in_flight and run.updated_at >= now - stale_after:
                return False
            self.runs[(customer_id, stage)] = StageRun(
                customer_id=customer_id,
                stage=stage,
                state=RunState.QUEUED,
                cycle_id=cycle_id,
                updated_at=now,
                queued_at=now,
            )
            return True

    def mark_running(self, customer_id: str, stage: Stage, cycle_id: str, now: dt.datetime) -> None:
        run = self.runs.get((customer_id, stage))
        update = {"state": RunState.RUNNING, "cycle_id": cycle_id, "updated_at": now, "started_at": now}
        self.runs[(customer_id, stage)] = (
            run.model_copy(update=update)
            if run
            else StageRun(
                customer_id=customer_id, stage=stage, state=RunState.RUNNING, cycle_id=cycle_id, updated_at=now
            )
        )

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
        run = self.runs.get((customer_id, stage)) or StageRun(
            customer_id=customer_id, stage=stage, state=state, cycle_id=cycle_id, updated_at=now
        )
        update: dict[str, Any] = {"state": state, "counts": counts, "updated_at": now, "finished_at": now}
        update["message"] = message or ""
        if state in (RunState.SUCCEEDED, RunState.PARTIAL):
            update["last_success_at"] = now
        self.runs[(customer_id, stage)] = run.model_copy(update=update)

    def get_health(self, customer_id: str) -> CustomerHealth | None:
        return self.health.get(customer_id)

    def put_health(self, health: CustomerHealth) -> None:
        self.health[health.customer_id] = health

    # -- cursors
    def get_cursor(self, customer_id: str, stream: str) -> Cursor:
        return self.cursors.get((customer_id, stream)) or Cursor(customer_id=customer_id, stream=stream)

    def save_cursor(self, cursor: Cursor) -> None:
        self.cursors[(cursor.customer_id, cursor.stream)] = cursor

    # -- mappings and leases
    def get_mapping(self, customer_id: str, kind: str, source_key: str) -> KeyMapping | None:
        return self.mappings.get((customer_id, kind, source_key))

    def get_mappings(self, customer_id: str, kind: str, source_keys: Iterable[str]) -> dict[str, KeyMapping]:
        return {k: m for k in source_keys if (m := self.mappings.get((customer_id, kind, k))) is not None}

    def iter_mappings(self, customer_id: str, kind: str) -> Iterator[KeyMapping]:
        return iter([m for (c, k, _), m in sorted(self.mappings.items()) if (c, k) == (customer_id, kind)])

    def acquire_lease(
        self, customer_id: str, kind: str, source_key: str, *, owner: str, now: dt.datetime, expires_at: dt.datetime
    ) -> Lease:
        with self._lock:
            existing = self.mappings.get((customer_id, kind, source_key))
            if existing is not None and existing.state is MappingState.SYNCED:
                return Lease(outcome=LeaseOutcome.SYNCED, owner=owner, mapping=existing)
            if existing is not None and existing.lease_expires_at is not None and existing.lease_expires_at >= now:
                return Lease(outcome=LeaseOutcome.HELD, owner=owner, mapping=existing)
            self.mappings[(customer_id, kind, source_key)] = KeyMapping(
                customer_id=customer_id,
                kind=kind,
                source_key=source_key,
                state=MappingState.CLAIMED,
                claimed_at=now,
                lease_owner=owner,
                lease_expires_at=expires_at,
            )
            outcome = LeaseOutcome.ACQUIRED if existing is None else LeaseOutcome.TAKEN_OVER
            return Lease(outcome=outcome, owner=owner)

    def expire_leases(self) -> None:
        """What time passing does to a crashed worker's leases."""
        for key, mapping in self.mappings.items():
            if mapping.state is MappingState.CLAIMED:
                self.mappings[key] = mapping.model_copy(
                    update={"lease_expires_at": dt.datetime.min.replace(tzinfo=dt.UTC)}
                )

    def put_mapping(self, mapping: KeyMapping) -> None:
        self.mappings[(mapping.customer_id, mapping.kind, mapping.source_key)] = mapping

    def release_lease(self, customer_id: str, kind: str, source_key: str, owner: str) -> None:
        with self._lock:
            existing = self.mappings.get((customer_id, kind, source_key))
            if existing is not None and existing.state is MappingState.CLAIMED and existing.lease_owner == owner:
                del self.mappings[(customer_id, kind, source_key)]

    def commit(self, commit: Commit) -> None:
        with self._lock:
            mapping = commit.mapping
            if mapping is not None and commit.lease_owner is not None:
                held = self.mappings.get((mapping.customer_id, mapping.kind, mapping.source_key))
                if held is None or held.lease_owner != commit.lease_owner:
                    self.audit.extend(commit.audit)
                    raise LeaseLost(f"{mapping.kind} {mapping.source_key}: the lease was taken over")
            if mapping is not None:
                self.put_mapping(mapping)
            self.audit.extend(commit.audit)
            for outstanding in commit.outstanding_puts:
                self.outstanding[(outstanding.customer_id, outstanding.source_key)] = outstanding
            for key in commit.outstanding_deletes:
                self.outstanding.pop(key, None)

    def commit_batch(self, mappings: Sequence[KeyMapping], audit: Sequence[AuditEntry]) -> None:
        self.audit.extend(audit)
        for mapping in mappings:
            self.put_mapping(mapping)

    # -- outstanding invoices
    def list_outstanding(self, customer_id: str) -> Iterator[OutstandingInvoice]:
        return iter([o for (c, _), o in sorted(self.outstanding.items()) if c == customer_id])

    def get_outstanding(self, customer_id: str, source_keys: Iterable[str]) -> dict[str, OutstandingInvoice]:
        return {k: o for k in source_keys if (o := self.outstanding.get((customer_id, k))) is not None}

    def put_outstanding(self, outstanding: OutstandingInvoice) -> None:
        self.outstanding[(outstanding.customer_id, outstanding.source_key)] = outstanding

    # -- audit and failures
    def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        self.audit.extend(entries)

    def list_audit(self, customer_id: str, kind: str, source_key: str) -> list[AuditEntry]:
        return [e for e in self.audit if (e.customer_id, e.kind, e.source_key) == (customer_id, kind, source_key)]

    def record_failure(self, failure: FailedRecord) -> FailedRecord:
        key = (failure.customer_id, failure.kind, failure.source_key)
        previous = self.failures.get(key)
        stored = failure.model_copy(
            update={
                "attempts": (previous.attempts if previous else 0) + 1,
                "first_failed_at": previous.first_failed_at if previous else failure.first_failed_at,
            }
        )
        self.failures[key] = stored
        return stored

    def set_parked(self, customer_id: str, kind: str, source_key: str, *, parked: bool) -> None:
        key = (customer_id, kind, source_key)
        if key in self.failures:
            self.failures[key] = self.failures[key].model_copy(update={"parked": parked})

    def resolve_failure(self, customer_id: str, kind: str, source_key: str) -> bool:
        return self.failures.pop((customer_id, kind, source_key), None) is not None

    def list_failures(self, customer_id: str | None = None) -> list[FailedRecord]:
        return [f for f in self.failures.values() if customer_id is None or f.customer_id == customer_id]

    # -- history, reviews, alerts
    def archive_run(self, customer_id: str, stage: Stage) -> None:
        run = self.runs.get((customer_id, stage))
        if run is not None:
            self.run_history.append(run)

    def recent_runs(self, customer_id: str, stage: Stage, limit: int) -> list[StageRun]:
        kept = [r for r in self.run_history if (r.customer_id, r.stage) == (customer_id, stage)]
        return sorted(kept, key=lambda r: r.finished_at or r.updated_at, reverse=True)[:limit]

    def put_skipped(self, records: Sequence[SkippedRecord]) -> None:
        for record in records:
            self.skipped[(record.customer_id, record.kind, record.source_key)] = record

    def list_skipped(self, customer_id: str, kind: str) -> list[SkippedRecord]:
        return [r for (c, k, _), r in self.skipped.items() if (c, k) == (customer_id, kind)]

    def get_review(self, customer_id: str, task: ReviewTask) -> ReviewRecord | None:
        return self.reviews.get((customer_id, task))

    def get_reviews(self, customer_ids: Sequence[str], task: ReviewTask) -> dict[str, ReviewRecord]:
        return {c: r for c in customer_ids if (r := self.reviews.get((c, task))) is not None}

    def try_mark_review_queued(
        self, customer_id: str, task: ReviewTask, now: dt.datetime, *, unless_queued_after: dt.datetime
    ) -> bool:
        with self._lock:
            review = self.reviews.get((customer_id, task)) or ReviewRecord(customer_id=customer_id, task=task)
            if review.queued_at is not None and review.queued_at > unless_queued_after:
                return False
            self.reviews[(customer_id, task)] = review.model_copy(update={"queued_at": now})
            return True

    def put_review_result(self, review: ReviewRecord) -> None:
        self.reviews[(review.customer_id, review.task)] = review

    def claim_alert(self, alert: AlertedKind) -> bool:
        with self._lock:
            if (alert.customer_id, alert.kind) in self.alerted:
                return False
            self.alerted[(alert.customer_id, alert.kind)] = alert
            return True

    # -- for assertions
    def events(self, kind: str, key: str) -> list[str]:
        return [e.event.value for e in self.audit if (e.kind, e.source_key) == (kind, key)]


@dataclass
class FakeRetryQueue:
    sent: list[RecordRetry] = field(default_factory=list)

    def send(self, retries: Sequence[RecordRetry]) -> None:
        self.sent.extend(retries)


@dataclass
class FakeCallSchedule:
    """``ports.CallSchedule`` in memory: each customer's end of the turns reserved; every claim recorded."""

    free_at: dict[str, float] = field(default_factory=dict)
    claims: list[int] = field(default_factory=list)

    def claim(self, customer_id: str, calls: int, interval: float, now: float) -> float:
        start = max(now, self.free_at.get(customer_id, now))
        self.free_at[customer_id] = start + calls * interval
        self.claims.append(calls)
        return start


@dataclass
class FakeWorkQueue:
    sent: list[WorkOrder] = field(default_factory=list)

    def send(self, orders: Sequence[WorkOrder]) -> None:
        self.sent.extend(orders)


@dataclass
class FakeCustomerDirectory:
    customers: list[Customer] = field(default_factory=list)
    invalid: list[InvalidCustomer] = field(default_factory=list)

    def load(self) -> tuple[list[Customer], list[InvalidCustomer]]:
        return list(self.customers), list(self.invalid)

    def get(self, customer_id: str) -> Customer | InvalidCustomer | None:
        for customer in self.customers:
            if customer.customer_id == customer_id:
                return customer
        return next((c for c in self.invalid if c.customer_id == customer_id), None)


class FakeSealer:
    def seal(self, payload: Any, context: dict[str, str]) -> dict[str, str]:
        return {"sealed": "yes"}

    def open(self, sealed: dict[str, str], context: dict[str, str]) -> Any:
        raise AssertionError("nothing reads sealed payloads back in these tests")


@dataclass
class FakeImage:
    content_type: str
    data: bytes
    sha256: str | None

    @property
    def size(self) -> int:
        return len(self.data)

    def iter_bytes(self) -> Iterator[bytes]:
        yield self.data


class FakeAgent:
    """A Sage 100 company: records by key, one page per list call (the stages' paging is tested elsewhere)."""

    def __init__(self) -> None:
        self.faults = Faults()
        self.vendors: dict[str, SageVendor] = {}
        self.accounts: dict[str, GLAccount] = {}
        self.segments = [
            GLSegment(segment_no=1, segment_name="Account", length=4),
            GLSegment(segment_no=3, segment_name="Cost Center", length=3),
        ]
        self.values: dict[str, SegmentValue] = {}
        self.invoices: dict[str, OpenInvoice] = {}
        self.images: dict[str, FakeImage] = {}
        self.checks: dict[str, RecordedManualCheck] = {}
        self.quiet_feed = False
        """True: the invoice change feed (a poll with ``updated_since``) has nothing new."""

    def health(self) -> AgentHealth:
        return AgentHealth(agent_version="1", sage_version="2024", companies=["RCC"], server_time=AGENT_NOW)

    def ping(self) -> CompanyInfo:
        return CompanyInfo.model_validate(
            {"CompanyCode": "RCC", "CompanyName": "Redrock", "APDivisionsEnabled": True, "APModuleDate": "20261201",
             "BankCodes": ["A"]}
        )  # fmt: skip

    def vendors_page(self, *, updated_since: Any, cursor: Any = None, limit: Any = None) -> Page[SageVendor]:
        return Page[SageVendor](items=list(self.vendors.values()), next_cursor=None)

    def gl_accounts_page(self, *, updated_since: Any, cursor: Any = None, limit: Any = None) -> Page[GLAccount]:
        return Page[GLAccount](items=list(self.accounts.values()), next_cursor=None)

    def gl_segments(self) -> list[GLSegment]:
        return self.segments

    def segment_values_page(
        self, *, segment_no: int, updated_since: Any, cursor: Any = None, limit: Any = None
    ) -> Page[SegmentValue]:
        items = [v for v in self.values.values() if v.segment_no == segment_no]
        return Page[SegmentValue](items=items, next_cursor=None)

    def open_invoices_page(
        self, *, updated_since: Any, cursor: Any = None, limit: Any = None, **_: Any
    ) -> Page[OpenInvoice]:
        quiet = self.quiet_feed and updated_since is not None
        listed = [] if quiet else list(self.invoices.values())
        start = int(cursor or 0)
        end = len(listed) if limit is None else start + limit
        return Page[OpenInvoice](items=listed[start:end], next_cursor=str(end) if end < len(listed) else None)

    def open_invoice(self, division: str, vendor_no: str, invoice_no: str) -> OpenInvoice | None:
        self.faults.check("open_invoice")
        return self.invoices.get(f"{division}-{vendor_no}/{invoice_no}")

    def vendor(self, division: str, vendor_no: str) -> SageVendor | None:
        return self.vendors.get(f"{division}-{vendor_no}")

    def gl_account(self, account_key: str) -> GLAccount | None:
        return self.accounts.get(account_key)

    def segment_value(self, segment_no: int, code: str) -> SegmentValue | None:
        return self.values.get(f"{segment_no}-{code}")

    @contextlib.contextmanager
    def invoice_image(self, division: str, vendor_no: str, invoice_no: str) -> Iterator[FakeImage | None]:
        yield self.images.get(f"{division}-{vendor_no}/{invoice_no}")

    def post_manual_check(self, check: ManualCheck) -> ManualCheckResult:
        self.faults.check("post_manual_check")
        if check.key in self.checks:
            raise PaymentAlreadyExists(f"check {check.key} exists", existing=self.checks[check.key])
        self.checks[check.key] = RecordedManualCheck.model_validate({**check.model_dump(), "posted": True})
        for line in check.lines:
            key = f"{check.ap_division_no}-{check.vendor_no}/{line.invoice_no}"
            invoice = self.invoices[key]
            balance = invoice.balance - line.amount_paid - line.discount_amt
            if balance <= 0:
                del self.invoices[key]
            else:
                self.invoices[key] = invoice.model_copy(update={"balance": balance})
        return ManualCheckResult(
            bank_code=check.bank_code, check_no=check.check_no, posted=True, check_amt=check.check_amount
        )

    def manual_check(self, bank_code: str, check_no: str) -> RecordedManualCheck | None:
        return self.checks.get(f"{bank_code}/{check_no}")


class FakeAvid:
    """An AvidXchange company: it creates an invoice every time it is asked (no deduplication), as the real one."""

    def __init__(self) -> None:
        self.faults = Faults()
        self.vendors: dict[str, AvidVendor] = {}
        self.codes: dict[tuple[str, str], EnterpriseCode] = {}
        self.invoices: list[AvidInvoice] = []
        self.image_uploads: list[tuple[str, bytes]] = []
        self.windows: list[PaymentWindow] = []
        self.payments: dict[str, AvidPayment] = {}
        self.before_create: Callable[[NewInvoice], None] = lambda invoice: None
        self._ids = itertools.count(5001)

    def company(self) -> AvidCompany:
        return AvidCompany(company_id="C-1", name="Redrock")

    def upsert_vendors(self, vendors: Sequence[AvidVendor]) -> list[BatchItemResult]:
        self.faults.check("upsert_vendors")
        for vendor in vendors:
            self.vendors[vendor.external_vendor_code] = vendor
        return [BatchItemResult(successful=True, item={"Id": f"V-{v.external_vendor_code}"}) for v in vendors]

    def find_vendor(self, external_vendor_code: str) -> AvidVendorRecord | None:
        vendor = self.vendors.get(external_vendor_code)
        return None if vendor is None else AvidVendorRecord(**vendor.model_dump(), id=f"V-{external_vendor_code}")

    def iter_vendors(self, *, last_modified_from: Any = None) -> Iterator[AvidVendorRecord]:
        return iter([r for code in self.vendors if (r := self.find_vendor(code)) is not None])

    def upsert_enterprise_codes(self, codes: Sequence[EnterpriseCode]) -> list[BatchItemResult]:
        self.faults.check("upsert_enterprise_codes")
        for code in codes:
            self.codes[(code.group_name, code.code_value)] = code
        return [BatchItemResult(successful=True) for _ in codes]

    def iter_enterprise_codes(self, *, group_name: str | None = None) -> Iterator[EnterpriseCodeRecord]:
        return iter([EnterpriseCodeRecord(**c.model_dump()) for c in self.codes.values()])

    def create_invoice(self, invoice: NewInvoice) -> AvidInvoice:
        self.faults.check("create_invoice")
        self.before_create(invoice)
        created = AvidInvoice(**invoice.model_dump(), id=f"I-{next(self._ids)}", status=InvoiceStatus.RECEIVED)
        self.invoices.append(created)
        return created

    def find_invoices(self, *, vendor_external_code: str, number: str) -> list[AvidInvoice]:
        return [i for i in self.invoices if (i.vendor_external_code, i.number) == (vendor_external_code, number)]

    def get_invoice(self, invoice_id: str) -> AvidInvoice | None:
        return next((i for i in self.invoices if i.id == invoice_id), None)

    def iter_invoices(self, *, last_changed_from: dt.datetime | None = None) -> Iterator[AvidInvoice]:
        return iter(list(self.invoices))

    def upload_invoice_image(
        self, invoice_id: str, *, filename: str, content_type: str, content: Iterable[bytes]
    ) -> None:
        self.faults.check("upload_invoice_image")
        self.image_uploads.append((invoice_id, b"".join(content)))

    def payment_windows(self, *, modified_from: dt.datetime, modified_to: dt.datetime) -> Iterator[PaymentWindow]:
        return iter([w for w in self.windows if modified_from <= w.modified_from and w.modified_to <= modified_to])

    def iter_payments(self, *, modified_from: dt.datetime, modified_to: dt.datetime) -> Iterator[AvidPayment]:
        return iter(
            [p for w in self.payment_windows(modified_from=modified_from, modified_to=modified_to) for p in w.items]
        )

    def get_payment(self, payment_id: str) -> AvidPayment | None:
        return self.payments.get(payment_id)

    def named(self, number: str) -> list[AvidInvoice]:
        return [i for i in self.invoices if i.number == number]


@dataclass
class Systems:
    """One customer's fakes, and contexts over them (one per worker)."""

    customer: Customer
    agent: FakeAgent = field(default_factory=FakeAgent)
    avid: FakeAvid = field(default_factory=FakeAvid)
    state: FakeStateStore = field(default_factory=FakeStateStore)
    retries: FakeRetryQueue = field(default_factory=FakeRetryQueue)
    now: dt.datetime = dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)
    seconds_left: float = 600.0

    def context(self, *, budget: TimeBudget | None = None) -> StageContext:
        return StageContext(
            customer=self.customer,
            agent=self.agent,
            avid=self.avid,
            state=self.state,
            retries=self.retries,
            sealer=FakeSealer(),
            budget=budget or TimeBudget(lambda: int(self.seconds_left * 1000), reserve_ms=0),
            clock=lambda: self.now,
        )


@dataclass
class FakeRetryDelay:
    delays: list[tuple[str, int]] = field(default_factory=list)
    """(receipt handle, seconds) of every retry message whose next delivery was pushed out."""

    def delay(self, receipt_handle: str, seconds: int) -> None:
        self.delays.append((receipt_handle, seconds))


@dataclass
class FakeReviewQueue:
    sent: list[ReviewOrder] = field(default_factory=list)

    def send(self, orders: Sequence[ReviewOrder]) -> None:
        self.sent.extend(orders)


@dataclass
class FakeBacklog:
    backlog: Backlog = field(default_factory=lambda: Backlog(retrying=0, dead_lettered=0))

    def read(self) -> Backlog:
        return self.backlog


@dataclass
class FakeAlertTopic:
    published: list[tuple[str, str]] = field(default_factory=list)
    """(subject, message) of every alert."""

    def publish(self, subject: str, message: str) -> None:
        self.published.append((subject, message))


class InMemoryIdempotencyStore(BasePersistenceLayer):
    """Powertools' idempotency records in memory, with the DynamoDB layer's conditional put: a record is written only
    when its key is new, its record has expired, or it is an in-progress record whose invocation has timed out;
    otherwise the put fails with ``IdempotencyItemAlreadyExistsError`` carrying the stored record."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated
        self._lock = threading.Lock()
        self.records: dict[str, DataRecord] = {}

    def _get_record(self, idempotency_key: str) -> DataRecord:
        try:
            return self.records[idempotency_key]
        except KeyError as missing:
            raise IdempotencyItemNotFoundError from missing

    def _put_record(self, data_record: DataRecord) -> None:
        now = time.time()
        with self._lock:
            stored = self.records.get(data_record.idempotency_key)
            if stored is not None and not _replaceable(stored, now):
                self._validate_payload(data_payload=data_record, stored_data_record=stored)
                raise IdempotencyItemAlreadyExistsError(old_data_record=stored)
            self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        # An update sets the response, expiry and status (and the payload hash when validating); like DynamoDB's
        # UpdateItem it creates the record if it is missing and keeps the in-progress expiry it had.
        with self._lock:
            stored = self.records.get(data_record.idempotency_key)
            self.records[data_record.idempotency_key] = DataRecord(
                idempotency_key=data_record.idempotency_key,
                status=data_record.status,
                expiry_timestamp=data_record.expiry_timestamp,
                in_progress_expiry_timestamp=stored.in_progress_expiry_timestamp if stored else None,
                response_data=data_record.response_data,
                payload_hash=data_record.payload_hash
                if self.payload_validation_enabled
                else (stored.payload_hash if stored else ""),
            )

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self.records.pop(data_record.idempotency_key, None)

    def expire_records(self) -> None:
        """What the passing of the idempotency window does to every record."""
        for record in self.records.values():
            record.expiry_timestamp = 1


def _replaceable(stored: DataRecord, now: float) -> bool:
    """DynamoDB's put condition, past a new key: the record expired, or it is in progress past its invocation."""
    if stored.expiry_timestamp is not None and stored.expiry_timestamp < int(now):
        return True
    return (
        stored.status == STATUS_CONSTANTS["INPROGRESS"]
        and stored.in_progress_expiry_timestamp is not None
        and stored.in_progress_expiry_timestamp < int(now * 1000)
    )


@dataclass
class FakeAdapters:
    """A whole deployment in memory, for ``bootstrap.use``: every port a handler reaches, and each customer's two
    systems (``connect``) or the error opening them raises (``open_errors``)."""

    customers: FakeCustomerDirectory = field(default_factory=FakeCustomerDirectory)
    state: FakeStateStore = field(default_factory=FakeStateStore)
    work: FakeWorkQueue = field(default_factory=FakeWorkQueue)
    retries: FakeRetryQueue = field(default_factory=FakeRetryQueue)
    retry_delay: FakeRetryDelay = field(default_factory=FakeRetryDelay)
    reviews: FakeReviewQueue = field(default_factory=FakeReviewQueue)
    backlog: FakeBacklog = field(default_factory=FakeBacklog)
    alerts: FakeAlertTopic = field(default_factory=FakeAlertTopic)
    sealer: FakeSealer = field(default_factory=FakeSealer)
    idempotency: InMemoryIdempotencyStore = field(default_factory=InMemoryIdempotencyStore)
    systems: dict[str, Systems] = field(default_factory=dict)
    open_errors: dict[str, Exception] = field(default_factory=dict)
    """Customer id -> what opening its systems raises (e.g. ``AgentOffline``, ``AvidAuthFailed``)."""
    opened: list[str] = field(default_factory=list)
    """The customer of every attempt to open its systems: a handler that answers without them adds nothing."""

    def connect(self, customer: Customer) -> Systems:
        """A customer of this deployment with its own agent and AvidXchange, sharing its state and retry queue."""
        self.customers.customers.append(customer)
        systems = Systems(customer=customer, state=self.state, retries=self.retries)
        self.systems[customer.customer_id] = systems
        return systems

    @contextlib.contextmanager
    def open_systems(self, customer: Customer, *, shared_pace: bool = True) -> Iterator[tuple[SageAgent, AvidConnect]]:
        self.opened.append(customer.customer_id)
        refused = self.open_errors.get(customer.customer_id)
        if refused is not None:
            raise refused
        systems = self.systems[customer.customer_id]
        yield systems.agent, systems.avid


_FAKE_ADAPTERS_ARE_ADAPTERS: type[Adapters] = FakeAdapters  # mypy proves FakeAdapters has every port bootstrap needs


def money(value: str) -> Decimal:
    return Decimal(value)
