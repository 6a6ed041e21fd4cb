"""Rows of the simulated company's tables turned into the contract's records, and the SQL they need."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from decimal import Decimal

from sage_agent.backend import RecordKey
from sage_agent.records import (
    AccountSegment,
    GLAccount,
    InvoiceHeaderFields,
    InvoiceLine,
    ManualCheckLine,
    OpenInvoice,
    RecordedManualCheck,
    SegmentValue,
    Vendor,
    VendorFields,
)
from sage_agent.sage_time import SageStamp

VENDOR_COLUMNS = tuple(VendorFields.model_fields)
INVOICE_HEADER_COLUMNS = tuple(InvoiceHeaderFields.model_fields)
INVOICE_KEY = ("APDivisionNo", "VendorNo", "InvoiceNo")
INSERT_INVOICE = (
    f"INSERT INTO invoices ({', '.join(INVOICE_HEADER_COLUMNS)}, InvoiceAmt, Balance, updated_stamp)"  # noqa: S608
    f" VALUES ({', '.join('?' * (len(INVOICE_HEADER_COLUMNS) + 3))})"
)
UPDATE_INVOICE_HEADER = (
    f"UPDATE invoices SET {', '.join(f'{c} = ?' for c in INVOICE_HEADER_COLUMNS)}, updated_stamp = ?"  # noqa: S608
    " WHERE APDivisionNo = ? AND VendorNo = ? AND InvoiceNo = ?"
)
INVOICE_SELECT = (
    "SELECT i.*, EXISTS (SELECT 1 FROM invoice_images m WHERE m.APDivisionNo = i.APDivisionNo"
    " AND m.VendorNo = i.VendorNo AND m.InvoiceNo = i.InvoiceNo) AS HasImage FROM invoices i"
)
# CROSS JOIN keeps the page's keys as the outer loop, so each key is one primary-key lookup.
SELECT_LINES = (
    "SELECT l.APDivisionNo, l.VendorNo, l.InvoiceNo, l.AccountKey, a.Account, l.DistributionAmt, l.Comment"
    " FROM (VALUES {values}) AS k CROSS JOIN invoice_lines l"
    " ON l.APDivisionNo = k.column1 AND l.VendorNo = k.column2 AND l.InvoiceNo = k.column3"
    " JOIN gl_accounts a USING (AccountKey)"
    " ORDER BY l.APDivisionNo, l.VendorNo, l.InvoiceNo, l.LineNo"
)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cents(amount: Decimal) -> int:
    return int(amount.quantize(Decimal("0.01")) * 100)


def money(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(Decimal("0.01"))


def stamp_fields(value: int, prefix: str = "") -> dict[str, str]:
    stamp = SageStamp.from_ordinal(value)
    return {f"Date{prefix}": stamp.date, f"Time{prefix}": stamp.time_text}


def vendor_from_row(row: sqlite3.Row) -> Vendor:
    return Vendor(
        **{c: row[c] for c in VENDOR_COLUMNS},
        **stamp_fields(row["created_stamp"], "Created"),
        **stamp_fields(row["updated_stamp"], "Updated"),
    )


def gl_account_from_row(row: sqlite3.Row) -> GLAccount:
    segments = [
        AccountSegment(SegmentNo=number, SubAccountCode=code)
        for number, code in enumerate(str(row["Account"]).split("-"), start=1)
    ]
    return GLAccount(
        AccountKey=row["AccountKey"],
        Account=row["Account"],
        AccountDesc=row["AccountDesc"],
        MainAccountCode=row["MainAccountCode"],
        AccountType=row["AccountType"],
        Status=row["Status"],
        Segments=segments,
        **stamp_fields(row["updated_stamp"], "Updated"),
    )


def segment_value_from_row(row: sqlite3.Row) -> SegmentValue:
    return SegmentValue(
        SegmentNo=row["SegmentNo"],
        SubAccountCode=row["SubAccountCode"],
        SubAccountDesc=row["SubAccountDesc"],
        Status=row["Status"],
        **stamp_fields(row["updated_stamp"], "Updated"),
    )


def open_invoices_from_rows(conn: sqlite3.Connection, rows: Sequence[sqlite3.Row]) -> list[OpenInvoice]:
    if not rows:
        return []
    keys = [(r["APDivisionNo"], r["VendorNo"], r["InvoiceNo"]) for r in rows]
    lines: dict[RecordKey, list[InvoiceLine]] = {key: [] for key in keys}
    values = ", ".join("(?, ?, ?)" for _ in keys)
    for line in conn.execute(
        SELECT_LINES.format(values=values),
        [part for key in keys for part in key],
    ):
        lines[(line[0], line[1], line[2])].append(
            InvoiceLine(
                AccountKey=line["AccountKey"],
                Account=line["Account"],
                DistributionAmt=money(line["DistributionAmt"]),
                Comment=line["Comment"],
            )
        )
    return [
        OpenInvoice(
            **{c: row[c] for c in INVOICE_HEADER_COLUMNS},
            InvoiceAmt=money(row["InvoiceAmt"]),
            Balance=money(row["Balance"]),
            Lines=lines[key],
            HasImage=bool(row["HasImage"]),
            **stamp_fields(row["updated_stamp"], "Updated"),
        )
        for key, row in zip(keys, rows, strict=True)
    ]


def read_manual_check(conn: sqlite3.Connection, bank_code: str, check_no: str) -> RecordedManualCheck | None:
    row = conn.execute(
        "SELECT * FROM manual_checks WHERE BankCode = ? AND CheckNo = ?", (bank_code, check_no)
    ).fetchone()
    if row is None:
        return None
    lines = conn.execute(
        "SELECT * FROM manual_check_lines WHERE BankCode = ? AND CheckNo = ? ORDER BY LineNo", (bank_code, check_no)
    ).fetchall()
    return RecordedManualCheck(
        BankCode=row["BankCode"],
        CheckNo=row["CheckNo"],
        CheckDate=row["CheckDate"],
        APDivisionNo=row["APDivisionNo"],
        VendorNo=row["VendorNo"],
        PaymentMethod=row["PaymentMethod"],
        Reference=row["Reference"],
        Comment=row["Comment"],
        Lines=[
            ManualCheckLine(
                InvoiceNo=line["InvoiceNo"],
                HeaderSeqNo=line["HeaderSeqNo"],
                AmountPaid=money(line["AmountPaid"]),
                DiscountAmt=money(line["DiscountAmt"]),
            )
            for line in lines
        ],
        Posted=bool(row["Posted"]),
    )
