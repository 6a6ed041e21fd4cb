"""What the HTTP layer needs from a Sage 100 company, shaped after what BOI can do.

BOI gives keyed reads (``SetKey``/``Find``), browses over an index with a filter (``SetBrowseFilter`` then
``MoveFirst``/``MoveNext``), and writes through ``*_bus`` objects whose ``Write()`` fails with
``sLastErrorMsg`` (a rule refusal or "Record/file busy"). A backend implements this Protocol; the HTTP layer
never knows which one it talks to. Backends raise only the exceptions below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from sage_agent.records import (
    CompanyInfo,
    GLAccount,
    GLSegment,
    ManualCheck,
    ManualCheckResult,
    OpenInvoice,
    RecordedManualCheck,
    SegmentValue,
    Vendor,
)
from sage_agent.sage_time import SageStamp

RecordKey = tuple[str | int, ...]
IMAGE_CONTENT_TYPES = ("application/pdf", "image/tiff", "image/png", "image/jpeg")
"""What a scanned invoice can be (Paperless Office / attachments), per the contract."""


@dataclass(frozen=True)
class ChangeWindow:
    """One browse over a change feed, in (DateUpdated, TimeUpdated, key) order.

    ``since``: records stamped at or after it. ``after``: continue strictly after this (stamp, key) position
    (the last record of the previous page). ``limit``: at most this many records.
    """

    limit: int
    since: SageStamp | None = None
    after: tuple[SageStamp, RecordKey] | None = None


@dataclass(frozen=True)
class InvoiceFilter:
    invoice_date_from: dt.date | None = None
    division: str | None = None


@dataclass(frozen=True)
class InvoiceImage:
    """A scanned invoice. ``chunks()`` streams it; it is never held whole in memory by the HTTP layer."""

    content_type: str
    size: int
    sha256: str
    chunk_source: ImageChunkSource

    def chunks(self) -> Iterator[bytes]:
        return self.chunk_source()


class ImageChunkSource(Protocol):
    def __call__(self) -> Iterator[bytes]: ...


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


class BackendError(Exception):
    """Base of what a backend raises; the HTTP layer maps each subclass to one status."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RecordLocked(BackendError):
    """BOI's "Record/file busy": another user or process holds the record. HTTP 423 with Retry-After."""

    def __init__(self, message: str, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Busy(BackendError):
    """Every BOI session is in use (or the database is busy). HTTP 503 with Retry-After."""

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WriteRefused(BackendError):
    """A business rule refused the write (BOI ``Write()`` returned 0 with a reason). HTTP 422."""

    def __init__(self, message: str, fields: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or []


class AlreadyExists(BackendError):
    """A manual check with this BankCode+CheckNo exists. HTTP 409 with ``existing``."""

    def __init__(self, existing: RecordedManualCheck) -> None:
        super().__init__(
            f"manual check {existing.BankCode}/{existing.CheckNo} already exists; "
            "compare it with yours before treating the payment as posted"
        )
        self.existing = existing


class BackendFailure(BackendError):
    """Any other BOI failure; ``message`` is BOI's ``sLastErrorMsg``. HTTP 500."""


class SageBackend(Protocol):
    """One Sage 100 company."""

    @property
    def sage_version(self) -> str: ...

    def company_info(self) -> CompanyInfo: ...

    def browse_vendors(self, window: ChangeWindow) -> list[Vendor]: ...

    def browse_gl_accounts(self, window: ChangeWindow) -> list[GLAccount]: ...

    def gl_segments(self) -> list[GLSegment]: ...

    def browse_segment_values(self, window: ChangeWindow, segment_no: int | None) -> list[SegmentValue]: ...

    def read_vendor(self, division: str, vendor_no: str) -> Vendor | None: ...

    def read_gl_account(self, account_key: str) -> GLAccount | None: ...

    def read_segment_value(self, segment_no: int, code: str) -> SegmentValue | None: ...

    def browse_open_invoices(self, window: ChangeWindow, invoice_filter: InvoiceFilter) -> list[OpenInvoice]: ...

    def read_open_invoice(self, division: str, vendor_no: str, invoice_no: str) -> OpenInvoice | None: ...

    def read_invoice_image(self, division: str, vendor_no: str, invoice_no: str) -> InvoiceImage | None: ...

    def record_manual_check(self, check: ManualCheck, *, post: bool) -> ManualCheckResult:
        """Write the check and its lines atomically, or raise without writing anything."""
        ...

    def read_manual_check(self, bank_code: str, check_no: str) -> RecordedManualCheck | None: ...


__all__ = [
    "IMAGE_CONTENT_TYPES",
    "AlreadyExists",
    "BackendError",
    "BackendFailure",
    "Busy",
    "ChangeWindow",
    "FieldProblem",
    "InvoiceFilter",
    "InvoiceImage",
    "RecordKey",
    "RecordLocked",
    "SageBackend",
    "WriteRefused",
]
