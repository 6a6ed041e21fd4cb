"""Every port of the connector: the small interfaces its logic depends on.

The adapters in ``ml_connector.adapters`` (httpx, boto3) implement them for AWS; ``tests/fakes.py`` implements them in
memory. Logic imports ports, never adapters; adapters import ports, never logic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

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
from ml_connector.messages import RecordRetry, ReviewOrder, WorkOrder
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
    OutstandingInvoice,
    RunCounts,
    RunState,
    StageRun,
)

# -- the two customer systems ----------------------------------------------------------------------------------------


class InvoiceImage(Protocol):
    """A scanned invoice being downloaded: read it once with ``iter_bytes()``, never whole into memory."""

    @property
    def content_type(self) -> str: ...

    @property
    def size(self) -> int | None: ...

    @property
    def sha256(self) -> str | None: ...

    def iter_bytes(self) -> Iterator[bytes]:
        """The image's bytes in chunks; raises ``RetryLater`` at the end if they do not match ``sha256``."""
        ...


class SageAgent(Protocol):
    """One customer's Sage 100 company, through its agent. ``updated_since`` is agent-local (naive) time."""

    def health(self) -> AgentHealth: ...

    def ping(self) -> CompanyInfo: ...

    def vendors_page(
        self, *, updated_since: dt.datetime | None, cursor: str | None = None, limit: int | None = None
    ) -> Page[SageVendor]: ...

    def gl_accounts_page(
        self, *, updated_since: dt.datetime | None, cursor: str | None = None, limit: int | None = None
    ) -> Page[GLAccount]: ...

    def gl_segments(self) -> list[GLSegment]: ...

    def segment_values_page(
        self,
        *,
        segment_no: int,
        updated_since: dt.datetime | None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[SegmentValue]: ...

    def open_invoices_page(
        self,
        *,
        updated_since: dt.datetime | None,
        invoice_date_from: dt.date | None = None,
        division: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[OpenInvoice]: ...

    def open_invoice(self, division: str, vendor_no: str, invoice_no: str) -> OpenInvoice | None: ...

    def vendor(self, division: str, vendor_no: str) -> SageVendor | None: ...

    def gl_account(self, account_key: str) -> GLAccount | None: ...

    def segment_value(self, segment_no: int, code: str) -> SegmentValue | None: ...

    def invoice_image(
        self, division: str, vendor_no: str, invoice_no: str
    ) -> AbstractContextManager[InvoiceImage | None]: ...

    def post_manual_check(self, check: ManualCheck) -> ManualCheckResult:
        """Raises ``PaymentAlreadyExists`` (with ``existing``) when BankCode+CheckNo is already recorded."""
        ...

    def manual_check(self, bank_code: str, check_no: str) -> RecordedManualCheck | None: ...


class AvidConnect(Protocol):
    """One customer's AvidXchange company, through AvidConnect."""

    def company(self) -> AvidCompany: ...

    def upsert_vendors(self, vendors: Sequence[AvidVendor]) -> list[BatchItemResult]:
        """One result per vendor, in input order (batches of 100); failed items are results, not exceptions."""
        ...

    def find_vendor(self, external_vendor_code: str) -> AvidVendorRecord | None: ...

    def iter_vendors(self, *, last_modified_from: dt.datetime | None = None) -> Iterator[AvidVendorRecord]: ...

    def upsert_enterprise_codes(self, codes: Sequence[EnterpriseCode]) -> list[BatchItemResult]:
        """One result per code, in input order (batches of 500)."""
        ...

    def iter_enterprise_codes(self, *, group_name: str | None = None) -> Iterator[EnterpriseCodeRecord]: ...

    def create_invoice(self, invoice: NewInvoice) -> AvidInvoice:
        """Not idempotent: raises ``OutcomeUnknown`` when the invoice may exist; look it up before retrying."""
        ...

    def find_invoices(self, *, vendor_external_code: str, number: str) -> list[AvidInvoice]: ...

    def get_invoice(self, invoice_id: str) -> AvidInvoice | None: ...

    def iter_invoices(self, *, last_changed_from: dt.datetime | None = None) -> Iterator[AvidInvoice]:
        """Every invoice (or those changed since ``last_changed_from``, aware), page by page."""
        ...

    def upload_invoice_image(
        self, invoice_id: str, *, filename: str, content_type: str, content: Iterable[bytes]
    ) -> None: ...

    def payment_windows(self, *, modified_from: dt.datetime, modified_to: dt.datetime) -> Iterator[PaymentWindow]:
        """Payments modified in [modified_from, modified_to] (aware datetimes), in time order, as windows each read
        whole (never paged, so none is skipped when payments change meanwhile). A payment that breaks the contract
        is listed in its window's ``invalid``; it never fails the window."""
        ...

    def iter_payments(self, *, modified_from: dt.datetime, modified_to: dt.datetime) -> Iterator[AvidPayment]:
        """The valid payments of ``payment_windows``, one after another."""
        ...

    def get_payment(self, payment_id: str) -> AvidPayment | None: ...


OpenSystems = Callable[[Customer], AbstractContextManager[tuple[SageAgent, AvidConnect]]]
"""Opens one customer's agent and AvidConnect clients (with its credentials); both close when the block ends."""


# -- the connector's own AWS resources ------------------------------------------------------------------------------


class CustomerDirectory(Protocol):
    """The customers table: one item per customer, validated on read."""

    def load(self) -> tuple[list[Customer], list[InvalidCustomer]]: ...

    def get(self, customer_id: str) -> Customer | InvalidCustomer | None: ...


class WorkQueue(Protocol):
    """The per-stage FIFO work queues."""

    def send(self, orders: Sequence[WorkOrder]) -> None: ...


class RetryQueue(Protocol):
    """The retry queue: failed records, run again by the retry function."""

    def send(self, retries: Sequence[RecordRetry]) -> None: ...


class RetryDelay(Protocol):
    """Pushes a failed retry's next delivery out (its message's visibility)."""

    def delay(self, receipt_handle: str, seconds: int) -> None: ...


class ReviewQueue(Protocol):
    """The reconcile queue: reconciliations and onboarding previews."""

    def send(self, orders: Sequence[ReviewOrder]) -> None: ...


@dataclass(frozen=True)
class Backlog:
    """Records waiting for a retry (visible, in flight or delayed) and records in the record DLQ."""

    retrying: int
    dead_lettered: int


class BacklogGauge(Protocol):
    """Reads how many failed records wait in the retry queue and the record DLQ."""

    def read(self) -> Backlog: ...


class AlertTopic(Protocol):
    """The SNS topic the AP team subscribes to."""

    def publish(self, subject: str, message: str) -> None: ...


class CallSchedule(Protocol):
    """One customer's AvidConnect calls on one schedule, shared by every invocation that calls for it."""

    def claim(self, customer_id: str, calls: int, interval: float, now: float) -> float:
        """Reserve ``calls`` turns ``interval`` seconds apart after every turn reserved so far, starting no earlier
        than ``now`` (epoch seconds); return the first turn's time."""
        ...


class Sealer(Protocol):
    """Envelope encryption with the stack's KMS key, bound to an encryption context."""

    def seal(self, payload: Any, context: dict[str, str]) -> dict[str, str]: ...

    def open(self, sealed: dict[str, str], context: dict[str, str]) -> Any: ...


class StateStore(Protocol):
    def get_run(self, customer_id: str, stage: Stage) -> StageRun | None: ...
    def list_runs(self, customer_id: str) -> list[StageRun]: ...
    def snapshots(self, customer_ids: Sequence[str], stages: Sequence[Stage]) -> dict[str, CustomerSnapshot]: ...
    def try_mark_queued(
        self, customer_id: str, stage: Stage, cycle_id: str, now: dt.datetime, stale_after: dt.timedelta
    ) -> bool: ...
    def mark_running(self, customer_id: str, stage: Stage, cycle_id: str, now: dt.datetime) -> None: ...
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
    ) -> None: ...
    def get_health(self, customer_id: str) -> CustomerHealth | None: ...
    def put_health(self, health: CustomerHealth) -> None: ...
    def get_cursor(self, customer_id: str, stream: str) -> Cursor: ...
    def save_cursor(self, cursor: Cursor) -> None: ...
    def get_mapping(self, customer_id: str, kind: str, source_key: str) -> KeyMapping | None: ...
    def get_mappings(self, customer_id: str, kind: str, source_keys: Iterable[str]) -> dict[str, KeyMapping]: ...
    def iter_mappings(self, customer_id: str, kind: str) -> Iterator[KeyMapping]: ...
    def acquire_lease(
        self, customer_id: str, kind: str, source_key: str, *, owner: str, now: dt.datetime, expires_at: dt.datetime
    ) -> Lease: ...
    def put_mapping(self, mapping: KeyMapping) -> None: ...
    def release_lease(self, customer_id: str, kind: str, source_key: str, owner: str) -> None: ...
    def commit(self, commit: Commit) -> None: ...
    def commit_batch(self, mappings: Sequence[KeyMapping], audit: Sequence[AuditEntry]) -> None: ...
    def list_outstanding(self, customer_id: str) -> Iterator[OutstandingInvoice]: ...
    def get_outstanding(self, customer_id: str, source_keys: Iterable[str]) -> dict[str, OutstandingInvoice]: ...
    def put_outstanding(self, outstanding: OutstandingInvoice) -> None: ...
    def append_audit(self, entries: Sequence[AuditEntry]) -> None: ...
    def list_audit(self, customer_id: str, kind: str, source_key: str) -> list[AuditEntry]: ...
    def record_failure(self, failure: FailedRecord) -> FailedRecord: ...
    def set_parked(self, customer_id: str, kind: str, source_key: str, *, parked: bool) -> None: ...
    def resolve_failure(self, customer_id: str, kind: str, source_key: str) -> bool: ...
    def list_failures(self, customer_id: str | None = None) -> list[FailedRecord]: ...
    def archive_run(self, customer_id: str, stage: Stage) -> None:
        """Keep a copy of the stage's finished run in its history (expires with the audit trail)."""
        ...

    def recent_runs(self, customer_id: str, stage: Stage, limit: int) -> list[StageRun]:
        """The stage's kept runs, the newest first."""
        ...

    def put_skipped(self, records: Sequence[SkippedRecord]) -> None: ...
    def list_skipped(self, customer_id: str, kind: str) -> list[SkippedRecord]: ...
    def get_review(self, customer_id: str, task: ReviewTask) -> ReviewRecord | None: ...
    def get_reviews(self, customer_ids: Sequence[str], task: ReviewTask) -> dict[str, ReviewRecord]: ...
    def try_mark_review_queued(
        self, customer_id: str, task: ReviewTask, now: dt.datetime, *, unless_queued_after: dt.datetime
    ) -> bool:
        """Mark the task queued unless it was queued after ``unless_queued_after``. Returns whether it did."""
        ...

    def put_review_result(self, review: ReviewRecord) -> None: ...
    def claim_alert(self, alert: AlertedKind) -> bool:
        """Remember a kind of failure as published; False when it already was (then it is not published again)."""
        ...
