"""``BoiBackend``: one Sage 100 company through the Business Object Interface, behind ``SageBackend``.

Reads use ``_svc`` objects: keyed reads with ``nSetKeyValue``/``nFind``, change feeds by browsing
(``nSetBrowseFilter``/``nMoveFirst``/``nMoveNext``) and ordering by (DateUpdated, TimeUpdated, key) here, so
keyset paging neither skips nor repeats. A manual check is written through ``AP_ManualCheck_bus`` and posted
with ``AP_ManualCheckRegister_upd`` when the agent is configured to post.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from sage_agent.backend import (
    AlreadyExists,
    ChangeWindow,
    InvoiceFilter,
    InvoiceImage,
)
from sage_agent.boi import readers
from sage_agent.boi.calls import (
    SUCCESS,
    browse,
    check,
    failure,
    find,
    get_amount,
    get_int,
    get_text,
    last_error,
    set_value,
)
from sage_agent.boi.com import ComRuntime
from sage_agent.boi.names import (
    ALL_OBJECTS,
    BANK_CODES,
    CHECK_REGISTER,
    COMPANY,
    DIVISIONS,
    GL_ACCOUNTS,
    GL_SEGMENTS,
    GL_SUBACCOUNTS,
    INVOICE_HEADERS,
    INVOICE_LINES,
    MANUAL_CHECK,
    OPEN_INVOICES,
    PAYMENT_TYPES,
    VENDORS,
    BoiObject,
    key_prefix,
)
from sage_agent.boi.pool import PoolSettings, SessionPool
from sage_agent.boi.session import BoiSession, Login
from sage_agent.images import ImageSource, invoice_ref
from sage_agent.records import (
    ChangeTracked,
    CompanyInfo,
    GLAccount,
    GLSegment,
    InvoiceLine,
    ManualCheck,
    ManualCheckResult,
    OpenInvoice,
    RecordedManualCheck,
    SegmentValue,
    Vendor,
)
from sage_agent.sage_time import Clock, SageStamp, format_sage_date

log = logging.getLogger("sage_agent.boi")
T = TypeVar("T")
R = TypeVar("R", bound=ChangeTracked)
NEW_RECORD, EXISTING_RECORD = 2, 1


@dataclass(frozen=True)
class BoiSettings:
    login: Login
    pool: PoolSettings = field(default_factory=PoolSettings)
    sage_version: str = "Sage 100 (Business Object Interface)"


class BoiBackend:
    def __init__(
        self, runtime: ComRuntime, settings: BoiSettings, *, clock: Clock, images: ImageSource | None = None
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._images = images
        self._pool = SessionPool(runtime, settings.login, settings.pool, lambda: clock.now().date())

    def verify_access(self) -> None:
        """Log in once and look up every task the agent uses; ``BoiStartupRefused`` names what to change."""

        def allow_all(session: BoiSession) -> None:
            for boi_object in ALL_OBJECTS:
                session.allow_task(boi_object.task)

        self._pool.run(allow_all)

    def close(self) -> None:
        self._pool.close()

    @property
    def sage_version(self) -> str:
        return self._settings.sage_version

    # ---- company ------------------------------------------------------------------------------------

    def company_info(self) -> CompanyInfo:
        code = self._settings.login.company

        def read(session: BoiSession) -> CompanyInfo:
            with session.open(COMPANY) as company:
                name = get_text(company, "CompanyName$") if find(company, {"CompanyCode$": code}) else code
            with session.open(DIVISIONS) as divisions:
                division_count = sum(1 for _ in browse(divisions))
            with session.open(BANK_CODES) as banks:
                bank_codes = [get_text(bank, "BankCode$") for bank in browse(banks)]
            return CompanyInfo(
                CompanyCode=code,
                CompanyName=name,
                APDivisionsEnabled=division_count > 1,
                APModuleDate=format_sage_date(session.module_date),
                BankCodes=sorted(bank_codes),
            )

        return self._pool.run(read)

    def gl_segments(self) -> list[GLSegment]:
        def read(session: BoiSession) -> list[GLSegment]:
            with session.open(GL_SEGMENTS) as segments:
                return [
                    GLSegment(
                        SegmentNo=get_int(segment, "SegmentNo"),
                        SegmentName=get_text(segment, "SegmentName$"),
                        Length=get_int(segment, "Length"),
                    )
                    for segment in browse(segments)
                ]

        return self._pool.run(read)

    # ---- change feeds and keyed reads ---------------------------------------------------------------

    def browse_vendors(self, window: ChangeWindow) -> list[Vendor]:
        return self._pool.run(lambda session: self._scan(session, VENDORS, readers.vendor, window))

    def read_vendor(self, division: str, vendor_no: str) -> Vendor | None:
        key = {"APDivisionNo$": division, "VendorNo$": vendor_no}
        return self._pool.run(lambda session: self._keyed(session, VENDORS, key, readers.vendor))

    def browse_gl_accounts(self, window: ChangeWindow) -> list[GLAccount]:
        return self._pool.run(lambda session: self._scan(session, GL_ACCOUNTS, readers.gl_account, window))

    def read_gl_account(self, account_key: str) -> GLAccount | None:
        key = {"AccountKey$": account_key}
        return self._pool.run(lambda session: self._keyed(session, GL_ACCOUNTS, key, readers.gl_account))

    def browse_segment_values(self, window: ChangeWindow, segment_no: int | None) -> list[SegmentValue]:
        def read(session: BoiSession) -> list[SegmentValue]:
            with session.open(GL_SUBACCOUNTS) as values:
                records = [readers.segment_value(value) for value in browse(values)]
            wanted = (r for r in records if segment_no is None or r.SegmentNo == segment_no)
            return readers.in_window(wanted, window)

        return self._pool.run(read)

    def read_segment_value(self, segment_no: int, code: str) -> SegmentValue | None:
        key = {"SegmentNo": segment_no, "SubAccountCode$": code}
        return self._pool.run(lambda session: self._keyed(session, GL_SUBACCOUNTS, key, readers.segment_value))

    def browse_open_invoices(self, window: ChangeWindow, invoice_filter: InvoiceFilter) -> list[OpenInvoice]:
        def read(session: BoiSession) -> list[OpenInvoice]:
            prefix = key_prefix({"APDivisionNo$": invoice_filter.division}) if invoice_filter.division else ""
            headers = self._open_invoice_headers(session, prefix)
            since = invoice_filter.invoice_date_from
            if since is not None:
                headers = [h for h in headers if h.InvoiceDate >= format_sage_date(since)]
            return self._with_lines(session, readers.in_window(headers, window))

        return self._pool.run(read)

    def read_open_invoice(self, division: str, vendor_no: str, invoice_no: str) -> OpenInvoice | None:
        def read(session: BoiSession) -> OpenInvoice | None:
            prefix = key_prefix({"APDivisionNo$": division, "VendorNo$": vendor_no, "InvoiceNo$": invoice_no})
            found = [h for h in self._open_invoice_headers(session, prefix) if h.InvoiceNo == invoice_no]
            return self._with_lines(session, found[:1])[0] if found else None

        return self._pool.run(read)

    def read_invoice_image(self, division: str, vendor_no: str, invoice_no: str) -> InvoiceImage | None:
        if self._images is None:
            return None
        invoice = self.read_open_invoice(division, vendor_no, invoice_no)
        return self._images.image(invoice_ref(invoice)) if invoice else None

    def _scan(
        self, session: BoiSession, boi_object: BoiObject, read: Callable[[Any], R], window: ChangeWindow
    ) -> list[R]:
        with session.open(boi_object) as obj:
            records = [read(record) for record in browse(obj)]
        return readers.in_window(records, window)

    def _keyed(
        self, session: BoiSession, boi_object: BoiObject, key: Mapping[str, object], read: Callable[[Any], T]
    ) -> T | None:
        with session.open(boi_object) as obj:
            return read(obj) if find(obj, key) else None

    def _open_invoice_headers(self, session: BoiSession, prefix: str) -> list[OpenInvoice]:
        """Open invoices (no lines yet) with the history header's columns and the later of both stamps."""
        rows: list[dict[str, Any]] = []
        with session.open(OPEN_INVOICES) as open_invoices:
            for row in browse(open_invoices, prefix):
                balance = get_amount(row, "Balance")
                if balance == 0:
                    continue
                values: dict[str, Any] = readers.texts(
                    row,
                    (
                        "APDivisionNo",
                        "VendorNo",
                        "InvoiceNo",
                        "HeaderSeqNo",
                        "InvoiceDate",
                        "InvoiceDueDate",
                        "TermsCode",
                        "HoldPayment",
                        "DateUpdated",
                        "TimeUpdated",
                    ),
                )
                rows.append(values | {"InvoiceAmt": get_amount(row, "InvoiceAmt"), "Balance": balance})
        with session.open(INVOICE_HEADERS) as history:
            for row_values in rows:
                key = {f"{c}$": row_values[c] for c in ("APDivisionNo", "VendorNo", "InvoiceNo", "HeaderSeqNo")}
                if find(history, key):
                    row_values.update(readers.texts(history, ("Comment", "PurchaseOrderNo")))
                    stamp = readers.texts(history, ("DateUpdated", "TimeUpdated"))
                    if SageStamp.from_fields(stamp["DateUpdated"], stamp["TimeUpdated"]) > SageStamp.from_fields(
                        row_values["DateUpdated"], row_values["TimeUpdated"]
                    ):
                        row_values.update(stamp)
        return [OpenInvoice(**row_values, Lines=[], HasImage=False) for row_values in rows]

    def _with_lines(self, session: BoiSession, headers: list[OpenInvoice]) -> list[OpenInvoice]:
        @cache
        def account(account_key: str) -> str:
            found = self._keyed(session, GL_ACCOUNTS, {"AccountKey$": account_key}, readers.gl_account)
            return found.Account if found else account_key

        complete = []
        with session.open(INVOICE_LINES) as detail:
            for header in headers:
                key = {
                    "APDivisionNo$": header.APDivisionNo,
                    "VendorNo$": header.VendorNo,
                    "InvoiceNo$": header.InvoiceNo,
                    "HeaderSeqNo$": header.HeaderSeqNo,
                }
                lines: list[InvoiceLine] = readers.invoice_lines(detail, key, account)
                has_image = self._images is not None and self._images.has_image(invoice_ref(header))
                complete.append(header.model_copy(update={"Lines": lines, "HasImage": has_image}))
        return complete

    # ---- manual checks ------------------------------------------------------------------------------

    def read_manual_check(self, bank_code: str, check_no: str) -> RecordedManualCheck | None:
        return self._pool.run(lambda session: readers.manual_check(session, bank_code, check_no))

    def record_manual_check(self, check: ManualCheck, *, post: bool) -> ManualCheckResult:
        def write(session: BoiSession) -> ManualCheckResult:
            posted_before = readers.manual_check(session, check.BankCode, check.CheckNo)
            if posted_before is not None:
                raise AlreadyExists(posted_before)
            batch_no = self._write_check(session, check)
            posted = post and self._post_register(session, batch_no, check)
            amount = sum((line.AmountPaid for line in check.Lines), Decimal("0.00"))
            return ManualCheckResult(
                BankCode=check.BankCode, CheckNo=check.CheckNo, BatchNo=batch_no, Posted=posted, CheckAmt=amount
            )

        return self._pool.run(write)

    def _write_check(self, session: BoiSession, check: ManualCheck) -> str:
        with session.open(MANUAL_CHECK) as bus:
            check_key = {"BankCode$": check.BankCode, "CheckNo$": check.CheckNo}
            for name, value in check_key.items():
                set_key = bus.nSetKeyValue(name, value)
                if set_key != SUCCESS:
                    raise failure(bus, f"SetKeyValue {name}", field=name.removesuffix("$"))
            state = bus.nSetKey()
            if state == EXISTING_RECORD:
                bus.nClear()
                existing = readers.manual_check(session, check.BankCode, check.CheckNo)
                if existing is None:
                    raise failure(bus, "SetKey")
                raise AlreadyExists(existing)
            if state != NEW_RECORD:
                raise failure(bus, "SetKey", field="BankCode")
            try:
                self._fill_check(bus, check)
                batch_no = get_text(bus, "BatchNo$")
                if bus.nWrite() == 0:
                    raise failure(bus, f"manual check {check.BankCode}/{check.CheckNo}", field="body")
            except BaseException:
                bus.nClear()
                raise
        return batch_no

    def _fill_check(self, bus: Any, payment: ManualCheck) -> None:
        header: list[tuple[str, object, str]] = [
            ("CheckDate$", format_sage_date(payment.CheckDate), "CheckDate"),
            ("APDivisionNo$", payment.APDivisionNo, "APDivisionNo"),
            ("VendorNo$", payment.VendorNo, "VendorNo"),
            ("PaymentType$", PAYMENT_TYPES[payment.PaymentMethod.value], "PaymentMethod"),
            ("Reference$", payment.Reference, "Reference"),
            ("Comment$", payment.Comment, "Comment"),
        ]
        for column, value, name in header:
            set_value(bus, column, value, field=name)
        lines = bus.oLines
        for index, line in enumerate(payment.Lines):
            where = f"Lines[{index}]"
            check(lines.nAddLine(), lines, "AddLine")
            set_value(lines, "InvoiceNo$", line.InvoiceNo, field=f"{where}.InvoiceNo")
            set_value(lines, "HeaderSeqNo$", line.HeaderSeqNo, field=f"{where}.HeaderSeqNo")
            set_value(lines, "AmountPaid", line.AmountPaid, field=f"{where}.AmountPaid")
            set_value(lines, "DiscountAmt", line.DiscountAmt, field=f"{where}.DiscountAmt")
            check(lines.nWrite(), lines, f"line {index}", field=f"{where}.AmountPaid")

    def _post_register(self, session: BoiSession, batch_no: str, payment: ManualCheck) -> bool:
        """The manual check register update; ``False`` (the check stays recorded, unposted) when it fails."""
        with session.open(CHECK_REGISTER) as register:
            if register.nSelectBatch(batch_no) == 0 or register.nUpdate() == 0:
                log.warning(
                    "manual check %s/%s is recorded but the register update failed: %s",
                    payment.BankCode,
                    payment.CheckNo,
                    last_error(register),
                )
                return False
        return True
