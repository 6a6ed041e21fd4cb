"""What both systems hold after a chaos scenario, read from their own data (the agent's SQLite company and the
simulator's state), never from the connector's logs or mappings; the connector's state is consulted only for its
open failures (a record that did not make it must be one, with its reason).

A record is *lost* when it is missing from its target and is no open failure; *doubled* when its target holds it
more than once; *wrong* when its target holds it with fields that differ from the source.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from avid_sim.models import InvoiceStatus, PaymentRecord, PaymentStatus
from ml_connector.state.models import AuditEvent, FailedRecord, MappingState
from tests.support.system import ConnectedCustomer

ACCOUNTING_CODES_GROUP = "Accounting Codes"
SETTLED = {"Sent": (PaymentStatus.SENT, PaymentStatus.CLEARED), "Cleared": (PaymentStatus.CLEARED,)}


@dataclass
class Findings:
    records: int = 0
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)
    """Every record not (yet) in its target, lost or explained by an open failure."""

    def add(self, other: Findings) -> None:
        self.records += other.records
        self.lost += other.lost
        self.doubled += other.doubled
        self.wrong += other.wrong
        self.leaks += other.leaks
        self.missing |= other.missing


def _cents(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(Decimal("0.01"))


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def rows(db_path: Path, query: str) -> list[sqlite3.Row]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        return list(db.execute(query))


class _Ledger:
    """Accumulates findings; a missing record is lost unless an open failure names it."""

    def __init__(self, failures: Iterable[FailedRecord]) -> None:
        self.failures = {(f.kind, f.source_key): f for f in failures}
        self.findings = Findings()

    def expect(self, kind: str, key: str, found: list[Any], problems: list[str]) -> None:
        self.findings.records += 1
        label = f"{kind} {key}"
        if not found:
            self.findings.missing.add(label)
            if (kind, key) not in self.failures:
                self.findings.lost.append(label)
        elif len(found) > 1:
            self.findings.doubled.append(f"{label} x{len(found)}")
        if problems:
            self.findings.wrong.append(f"{label}: {'; '.join(problems)}")


def inspect_systems(system: ConnectedCustomer) -> Findings:
    """Every vendor, code, open invoice in scope and settled payment, checked in its target system."""
    ledger = _Ledger(system.state.list_failures(system.customer_id))
    db = system.agent.backend.db_path
    _vendors(system, db, ledger)
    _codes(system, db, ledger)
    _invoices(system, db, ledger)
    _payments(system, db, ledger)
    _effects_audited(system, ledger)
    return ledger.findings


def _effects_audited(system: ConnectedCustomer, ledger: _Ledger) -> None:
    """Every invoice the connector created and every check it posted has that effect in its audit trail."""
    for kind, event in (("invoice", AuditEvent.PUSHED), ("payment", AuditEvent.POSTED)):
        for mapping in system.state.iter_mappings(system.customer_id, kind):
            if mapping.state is MappingState.SYNCED:
                trail = [e.event for e in system.state.list_audit(system.customer_id, kind, mapping.source_key)]
                if event not in trail:
                    ledger.findings.wrong.append(f"{kind} {mapping.source_key} has no {event} in its audit: {trail}")


def _vendors(system: ConnectedCustomer, db: Path, ledger: _Ledger) -> None:
    held = system.avid.state.vendors
    for row in rows(db, "SELECT * FROM vendors"):
        key = f"{row['APDivisionNo']}-{row['VendorNo']}"
        vendor = held.get(key)
        problems = []
        if vendor is not None:
            payable = row["VendorStatus"] == "A" and row["HoldPayment"] != "Y"
            if vendor.name != row["VendorName"].strip():
                problems.append(f"name {vendor.name!r} != {row['VendorName'].strip()!r}")
            if vendor.active != payable:
                problems.append(f"active={vendor.active}, Sage payable={payable}")
        # AvidXchange keys vendors by ExternalVendorCode, so a vendor cannot be held twice there.
        ledger.expect("vendor", key, [vendor] if vendor else [], problems)


def _codes(system: ConnectedCustomer, db: Path, ledger: _Ledger) -> None:
    codes = system.avid.state.enterprise_codes
    for row in rows(db, "SELECT * FROM gl_accounts"):
        code = codes.get((ACCOUNTING_CODES_GROUP, row["Account"].strip()))
        problems = []
        if code is not None and code.is_active != (row["Status"] == "A"):
            problems.append(f"is_active={code.is_active}, Sage Status={row['Status']}")
        ledger.expect("gl-account", row["AccountKey"], [code] if code else [], problems)
    segment = system.customer.cost_center_segment
    names = {r["SegmentNo"]: r["SegmentName"].strip() for r in rows(db, "SELECT * FROM gl_segments")}
    for row in rows(db, f"SELECT * FROM gl_subaccounts WHERE SegmentNo = {int(segment)}"):
        code = codes.get((names[segment], row["SubAccountCode"].strip()))
        problems = []
        if code is not None and code.is_active != (row["Status"] == "A"):
            problems.append(f"is_active={code.is_active}, Sage Status={row['Status']}")
        ledger.expect("segment-value", f"{segment}-{row['SubAccountCode']}", [code] if code else [], problems)


def _invoices(system: ConnectedCustomer, db: Path, ledger: _Ledger) -> None:
    by_key: dict[tuple[str, str], list[Any]] = {}
    for invoice in system.avid.state.invoices.values():
        if invoice.status is not InvoiceStatus.VOID:
            by_key.setdefault((invoice.vendor_external_code, invoice.number), []).append(invoice)
    start = system.customer.invoice_start_date.strftime("%Y%m%d")
    for row in rows(db, "SELECT * FROM invoices"):
        vendor_code = f"{row['APDivisionNo']}-{row['VendorNo']}"
        found = by_key.get((vendor_code, row["InvoiceNo"]), [])
        is_open = row["Balance"] > 0 and row["InvoiceDate"].replace("-", "") >= start
        if not is_open and not found:
            continue
        problems = []
        for invoice in found:
            lines = sum((d.amount for d in invoice.distributions), Decimal(0))
            if lines != invoice.gross_amount:
                problems.append(f"distributions {lines} != gross {invoice.gross_amount}")
            if invoice.gross_amount > _cents(row["InvoiceAmt"]):
                problems.append(f"gross {invoice.gross_amount} > InvoiceAmt {_cents(row['InvoiceAmt'])}")
            payable = invoice.gross_amount - invoice.amount_paid
            if is_open and payable > _cents(row["Balance"]):
                problems.append(f"AvidXchange may still pay {payable}, Sage owes {_cents(row['Balance'])}")
        if is_open or len(found) > 1:
            ledger.expect("invoice", f"{vendor_code}/{row['InvoiceNo']}", found, problems)


def _payments(system: ConnectedCustomer, db: Path, ledger: _Ledger) -> None:
    checks: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows(db, "SELECT * FROM manual_checks"):
        lines = rows(
            db,
            "SELECT InvoiceNo, AmountPaid, DiscountAmt FROM manual_check_lines"
            f" WHERE BankCode = '{row['BankCode']}' AND CheckNo = '{row['CheckNo']}'",
        )
        paid = tuple(
            sorted(
                (line["InvoiceNo"], str(_cents(line["AmountPaid"])), str(_cents(line["DiscountAmt"]))) for line in lines
            )
        )
        checks.setdefault((f"{row['APDivisionNo']}-{row['VendorNo']}", json.dumps(paid)), []).append(dict(row))
    settled = SETTLED[system.customer.settle_on]
    for payment in system.avid.state.payments.values():
        posted = checks.get((payment.payee_external_vendor_code, _paid_lines(payment)), [])
        if payment.status in settled:
            problems = [
                f"CheckAmt {_cents(c['CheckAmt'])} != {payment.amount}"
                for c in posted
                if _cents(c["CheckAmt"]) != payment.amount
            ]
            ledger.expect("payment", payment.payment_id, posted, problems)
        elif posted and payment.status is not PaymentStatus.VOID:
            ledger.findings.wrong.append(f"payment {payment.payment_id} is {payment.status.name} but posted")


def _paid_lines(payment: PaymentRecord) -> str:
    return json.dumps(tuple(sorted((r.invoice_number, _money(r.net), _money(r.discount)) for r in payment.remittances)))


def find_secrets(texts: Iterable[tuple[str, str]], secrets: Iterable[str]) -> list[str]:
    """Where (by label) any of the secrets appears in the texts; a number only as a whole number, not as the digits
    of a longer one (a timestamp holds many nine-digit runs)."""
    patterns = [
        re.compile(rf"(?<!\d){re.escape(s)}(?!\d)" if s.isdigit() else re.escape(s))
        for s in dict.fromkeys(secrets)
        if s
    ]
    return [f"{label}: {p.pattern}" for label, text in texts for p in patterns if p.search(text)]
