"""Sage's rules for AP manual checks against open invoices, and their effect on balances when posted."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence

from sage_agent.backend import FieldProblem
from sage_agent.records import ManualCheck, ManualCheckLine
from sage_agent.sage_time import SageStamp, format_sage_date
from sage_agent.simulated.rows import cents, money


def check_period(module_date: dt.date, window_months: int) -> tuple[dt.date, dt.date]:
    """First day of the month ``window_months`` before the module date's month .. last day as many after."""
    first_month = module_date.year * 12 + module_date.month - 1 - window_months
    after_last_month = module_date.year * 12 + module_date.month + window_months
    start = dt.date(first_month // 12, first_month % 12 + 1, 1)
    end = dt.date(after_last_month // 12, after_last_month % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


def manual_check_problems(
    conn: sqlite3.Connection, check: ManualCheck, *, company: str, period: tuple[dt.date, dt.date]
) -> list[FieldProblem]:
    """Why Sage would refuse ``check`` (empty when it may be written), each problem naming its field."""
    problems: list[FieldProblem] = []
    if not conn.execute("SELECT 1 FROM bank_codes WHERE BankCode = ?", (check.BankCode,)).fetchone():
        problems.append(FieldProblem("BankCode", f"bank code {check.BankCode} does not exist in company {company}"))
    vendor = conn.execute(
        "SELECT VendorStatus FROM vendors WHERE APDivisionNo = ? AND VendorNo = ?",
        (check.APDivisionNo, check.VendorNo),
    ).fetchone()
    vendor_label = f"{check.APDivisionNo}-{check.VendorNo}"
    if vendor is None:
        problems.append(FieldProblem("VendorNo", f"vendor {vendor_label} does not exist in company {company}"))
    elif vendor["VendorStatus"] == "I":
        problems.append(FieldProblem("VendorNo", f"vendor {vendor_label} is inactive; reactivate it in Sage"))
    start, end = period
    if not start <= check.CheckDate <= end:
        problems.append(
            FieldProblem(
                "CheckDate",
                f"check date {format_sage_date(check.CheckDate)} is outside the AP period "
                f"{format_sage_date(start)}..{format_sage_date(end)}",
            )
        )
    if sum(line.AmountPaid for line in check.Lines) < 0:
        problems.append(FieldProblem("Lines", "the check total is negative; credit memos must be offset by invoices"))
    seen: set[str] = set()
    for index, line in enumerate(check.Lines):
        problems += _line_problems(conn, check, index, line, seen)
    return problems


def _line_problems(
    conn: sqlite3.Connection, check: ManualCheck, index: int, line: ManualCheckLine, seen: set[str]
) -> list[FieldProblem]:
    where = f"Lines[{index}]"
    label = f"invoice {check.APDivisionNo}-{check.VendorNo}/{line.InvoiceNo}"
    if line.InvoiceNo in seen:
        return [FieldProblem(f"{where}.InvoiceNo", f"{label} appears more than once on this check")]
    seen.add(line.InvoiceNo)
    row = conn.execute(
        "SELECT HeaderSeqNo, Balance FROM invoices WHERE APDivisionNo = ? AND VendorNo = ? AND InvoiceNo = ?",
        (check.APDivisionNo, check.VendorNo, line.InvoiceNo),
    ).fetchone()
    if row is None or row["Balance"] == 0 or row["HeaderSeqNo"] != line.HeaderSeqNo:
        return [FieldProblem(f"{where}.InvoiceNo", f"{label} (HeaderSeqNo {line.HeaderSeqNo}) is not open")]
    pending = conn.execute(
        "SELECT COALESCE(SUM(l.AmountPaid + l.DiscountAmt), 0) FROM manual_check_lines l"
        " JOIN manual_checks c USING (BankCode, CheckNo)"
        " WHERE c.Posted = 0 AND c.APDivisionNo = ? AND c.VendorNo = ? AND l.InvoiceNo = ?",
        (check.APDivisionNo, check.VendorNo, line.InvoiceNo),
    ).fetchone()[0]
    open_balance = money(int(row["Balance"]) - int(pending))
    applied = line.AmountPaid + line.DiscountAmt
    if row["Balance"] > 0:
        if line.AmountPaid < 0 or line.DiscountAmt < 0 or applied == 0:
            return [FieldProblem(f"{where}.AmountPaid", f"must be positive for {label}")]
        if applied > open_balance:
            return [
                FieldProblem(
                    f"{where}.AmountPaid",
                    f"{applied} (paid + discount) is over the open balance {open_balance} of {label}",
                )
            ]
    elif line.DiscountAmt != 0 or not open_balance <= line.AmountPaid < 0:
        return [
            FieldProblem(
                f"{where}.AmountPaid",
                f"{label} is a credit memo with open balance {open_balance}: apply a negative amount "
                "no larger than it and no discount",
            )
        ]
    return []


def apply_to_invoices(
    conn: sqlite3.Connection,
    division: str,
    vendor_no: str,
    lines: Sequence[ManualCheckLine],
    stamp: SageStamp,
) -> None:
    for line in lines:
        conn.execute(
            "UPDATE invoices SET Balance = Balance - ?, updated_stamp = ?"
            " WHERE APDivisionNo = ? AND VendorNo = ? AND InvoiceNo = ?",
            (cents(line.AmountPaid + line.DiscountAmt), stamp.ordinal, division, vendor_no, line.InvoiceNo),
        )
