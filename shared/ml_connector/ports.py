"""The small interfaces the sync stages depend on; the adapters in ``ml_connector.adapters`` implement them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

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
