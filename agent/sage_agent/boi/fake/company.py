"""An in-memory Sage 100 company as the fake ProvideX objects see it: tables of ``$``/numeric columns, record
locks held by "other users", strictly increasing ``DateUpdated``/``TimeUpdated`` stamps, logins and tasks."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sage_agent.boi.names import KEY_WIDTHS
from sage_agent.records import CompanyInfo, GLAccount, GLSegment, OpenInvoice, SegmentValue, Vendor
from sage_agent.sage_time import Clock, SageStamp

Row = dict[str, Any]
Key = tuple[Any, ...]

TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "SY_Company": ("CompanyCode$",),
    "AP_Division": ("APDivisionNo$",),
    "GL_BankCode": ("BankCode$",),
    "AP_Vendor": ("APDivisionNo$", "VendorNo$"),
    "GL_Account": ("AccountKey$",),
    "GL_Segment": ("SegmentNo",),
    "GL_SubAccount": ("SegmentNo", "SubAccountCode$"),
    "AP_OpenInvoice": ("APDivisionNo$", "VendorNo$", "InvoiceNo$", "HeaderSeqNo$"),
    "AP_InvoiceHistoryHeader": ("APDivisionNo$", "VendorNo$", "InvoiceNo$", "HeaderSeqNo$"),
    "AP_InvoiceHistoryDetail": ("APDivisionNo$", "VendorNo$", "InvoiceNo$", "HeaderSeqNo$", "DetailSeqNo$"),
    "AP_ManualCheckHeader": ("BankCode$", "CheckNo$"),
    "AP_ManualCheckDetail": ("BankCode$", "CheckNo$", "LineSeqNo$"),
    "AP_CheckHistoryHeader": ("BankCode$", "CheckNo$"),
    "AP_CheckHistoryDetail": ("BankCode$", "CheckNo$", "LineSeqNo$"),
}
STAMPED = ("AP_Vendor", "GL_Account", "GL_SubAccount", "AP_OpenInvoice", "AP_InvoiceHistoryHeader")


def padded_key(table: str, row: Row) -> str:
    """The record's key as ProvideX concatenates it (each column padded to its width), for browse filters."""
    return "".join(str(row[c]).ljust(KEY_WIDTHS.get(c, 0)) for c in TABLE_KEYS[table])


@dataclass
class Access:
    """Who may log in and what they may run (User and Role Maintenance)."""

    users: dict[str, str] = field(default_factory=lambda: {"agent": "secret"})
    external_access: set[str] = field(default_factory=lambda: {"agent"})
    modules: set[str] = field(default_factory=lambda: {"A/P"})
    denied_tasks: set[str] = field(default_factory=set)


class FakeSageCompany:
    """One company's tables; every method is atomic under one lock, as a Sage record write is."""

    def __init__(self, code: str, *, clock: Clock, check_date_window_months: int = 1) -> None:
        self.code = code
        self.clock = clock
        self.check_date_window_months = check_date_window_months
        self.access = Access()
        self.guard = threading.RLock()
        self.tables: dict[str, dict[Key, Row]] = {name: {} for name in TABLE_KEYS}
        self.locks: set[tuple[str, ...]] = set()
        self.register_failures: list[str] = []
        self.next_batch_no = 1
        self._last_stamp = SageStamp("19000101", 0)

    # ---- rows ---------------------------------------------------------------------------------------

    def key_of(self, table: str, row: Row) -> Key:
        return tuple(row[c] for c in TABLE_KEYS[table])

    def get(self, table: str, key: Key) -> Row | None:
        with self.guard:
            row = self.tables[table].get(key)
            return dict(row) if row is not None else None

    def rows(self, table: str, prefix: str = "") -> list[Row]:
        """Copies of the table's rows in key order (within a padded key ``prefix``)."""
        with self.guard:
            chosen = [dict(r) for r in self.tables[table].values() if padded_key(table, r).startswith(prefix)]
        return sorted(chosen, key=lambda r: padded_key(table, r))

    def put(self, table: str, row: Row, *, stamp: bool = True) -> Row:
        """Insert or replace a row; change-tracked tables get a new ``DateUpdated``/``TimeUpdated``."""
        with self.guard:
            stored = dict(row)
            if stamp and table in STAMPED:
                now = self.new_stamp()
                stored |= {"DateUpdated$": now.date, "TimeUpdated$": now.time_text}
            self.tables[table][self.key_of(table, stored)] = stored
            return dict(stored)

    def update(self, table: str, key: Key, **changes: Any) -> Row:
        """Change columns of a row as a Sage user would (``update("AP_Vendor", ("01", "ACME"), **{...})``)."""
        with self.guard:
            row = self.tables[table].get(key)
            if row is None:
                raise KeyError(f"{table} {key} does not exist")
            return self.put(table, row | changes)

    def delete(self, table: str, key: Key) -> None:
        with self.guard:
            self.tables[table].pop(key, None)

    def new_stamp(self) -> SageStamp:
        with self.guard:
            now = SageStamp.at(self.clock.now())
            self._last_stamp = now if now > self._last_stamp else self._last_stamp.successor()
            return self._last_stamp

    # ---- other users ---------------------------------------------------------------------------------

    def lock(self, table: str, *key: str) -> None:
        with self.guard:
            self.locks.add((table, *key))

    def unlock(self, table: str, *key: str) -> None:
        with self.guard:
            self.locks.discard((table, *key))

    @contextmanager
    def locked(self, table: str, *key: str) -> Iterator[None]:
        self.lock(table, *key)
        try:
            yield
        finally:
            self.unlock(table, *key)

    def lock_message(self, table: str, *key: str) -> str | None:
        with self.guard:
            held = (table, *key) in self.locks
        return f"Record/file busy: {table} {' '.join(key)} is in use by another user" if held else None

    def fail_next_register_update(self, message: str) -> None:
        with self.guard:
            self.register_failures.append(message)

    # ---- loading a company ---------------------------------------------------------------------------

    def load(
        self,
        info: CompanyInfo,
        *,
        divisions: Iterable[str],
        segments: Sequence[GLSegment],
        vendors: Iterable[Vendor],
        accounts: Iterable[GLAccount],
        segment_values: Iterable[SegmentValue],
        invoices: Iterable[OpenInvoice],
    ) -> None:
        """Fill the tables from contract records (stamps kept as they are)."""
        with self.guard:
            self.put("SY_Company", {"CompanyCode$": info.CompanyCode, "CompanyName$": info.CompanyName})
            for division in divisions:
                self.put("AP_Division", {"APDivisionNo$": division})
            for bank in info.BankCodes:
                self.put("GL_BankCode", {"BankCode$": bank})
            for segment in segments:
                self.put(
                    "GL_Segment",
                    {"SegmentNo": segment.SegmentNo, "SegmentName$": segment.SegmentName, "Length": segment.Length},
                )
            for vendor in vendors:
                self.put("AP_Vendor", _text_row(vendor.model_dump()), stamp=False)
            for account in accounts:
                self.put("GL_Account", _text_row(account.model_dump(exclude={"Segments"})), stamp=False)
            for value in segment_values:
                row = _text_row(value.model_dump(exclude={"SegmentNo"})) | {"SegmentNo": value.SegmentNo}
                self.put("GL_SubAccount", row, stamp=False)
            for invoice in invoices:
                self.load_invoice(invoice, stamp=False)
            self._last_stamp = max(
                (SageStamp.from_fields(r["DateUpdated$"], r["TimeUpdated$"]) for t in STAMPED for r in self.rows(t)),
                default=self._last_stamp,
            )

    def load_invoice(self, invoice: OpenInvoice, *, stamp: bool = True) -> None:
        """Enter (or replace) an open invoice with its history header and distribution lines."""
        values = invoice.model_dump(exclude={"Lines", "HasImage", "InvoiceAmt", "Balance"})
        key_columns = ("APDivisionNo", "VendorNo", "InvoiceNo", "HeaderSeqNo")
        open_row = _text_row({k: v for k, v in values.items() if k not in ("Comment", "PurchaseOrderNo")})
        open_row |= {"InvoiceAmt": invoice.InvoiceAmt, "Balance": invoice.Balance}
        header_row = _text_row({k: values[k] for k in (*key_columns, "Comment", "PurchaseOrderNo")})
        header_row |= {"DateUpdated$": invoice.DateUpdated, "TimeUpdated$": invoice.TimeUpdated}
        with self.guard:
            self.put("AP_OpenInvoice", open_row, stamp=stamp)
            self.put("AP_InvoiceHistoryHeader", header_row, stamp=False)
            prefix = padded_key("AP_InvoiceHistoryHeader", header_row)
            for old in self.rows("AP_InvoiceHistoryDetail", prefix):
                self.delete("AP_InvoiceHistoryDetail", self.key_of("AP_InvoiceHistoryDetail", old))
            for number, line in enumerate(invoice.Lines, start=1):
                self.put(
                    "AP_InvoiceHistoryDetail",
                    {c: header_row[c] for c in _text_columns(key_columns)}
                    | {
                        "DetailSeqNo$": f"{number:06d}",
                        "AccountKey$": line.AccountKey,
                        "DistributionAmt": line.DistributionAmt,
                        "Comment$": line.Comment,
                    },
                )


def _text_columns(fields: Iterable[str]) -> list[str]:
    return [f"{name}$" for name in fields]


def _text_row(values: dict[str, Any]) -> Row:
    return {f"{name}$": value for name, value in values.items()}


def as_decimal(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
