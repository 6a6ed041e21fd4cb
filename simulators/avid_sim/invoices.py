"""Invoice creation (no deduplication, by design of the real API), look-ups and approval moves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from avid_sim.enterprise_codes import GL_GROUP
from avid_sim.errors import AvidApiError
from avid_sim.models import InvoiceIn, InvoiceRecord, InvoiceStatus
from avid_sim.state import AvidState
from avid_sim.validation import field_messages

S = InvoiceStatus
_ALLOWED_MOVES: dict[InvoiceStatus, set[InvoiceStatus]] = {
    S.RECEIVED: {S.IN_APPROVAL, S.APPROVED, S.REJECTED, S.VOID},
    S.IN_APPROVAL: {S.APPROVED, S.REJECTED, S.VOID},
    S.REJECTED: {S.IN_APPROVAL, S.VOID},
    S.APPROVED: {S.VOID},
}


def create_invoice(state: AvidState, body: Any) -> InvoiceRecord:
    try:
        invoice = InvoiceIn.model_validate(body)
    except ValidationError as exc:
        raise AvidApiError(422, "invoice is invalid: " + "; ".join(field_messages(exc))) from None
    with state.lock:
        problems = _rule_violations(state, invoice)
        if problems:
            label = f"invoice {invoice.vendor_external_code}/{invoice.number}"
            raise AvidApiError(422, f"{label}: " + "; ".join(problems))
        now = state.clock.now()
        record = InvoiceRecord(
            **invoice.model_dump(), id=state.new_id("I", "invoice"), created_date=now, last_changed_date=now
        )
        state.invoices[record.id] = record
        return record


def _rule_violations(state: AvidState, invoice: InvoiceIn) -> list[str]:
    problems: list[str] = []
    vendor = state.vendors.get(invoice.vendor_external_code)
    if vendor is None:
        problems.append(f"vendor {invoice.vendor_external_code} does not exist; upsert the vendor first")
    elif not vendor.active:
        problems.append(f"vendor {invoice.vendor_external_code} is inactive; reactivate it first")
    if invoice.due_date is not None and invoice.due_date < invoice.invoice_date:
        problems.append(f"DueDate {invoice.due_date} is before InvoiceDate {invoice.invoice_date}")
    for index, distribution in enumerate(invoice.distributions):
        where = f"Distributions[{index}]"
        groups = [code.group_name for code in distribution.enterprise_codes]
        if groups.count(GL_GROUP) != 1:
            problems.append(f"{where} must name exactly one '{GL_GROUP}' code (the GL account)")
        if len(set(groups)) != len(groups):
            problems.append(f"{where} names a code group more than once")
        for ref in distribution.enterprise_codes:
            code = state.enterprise_codes.get((ref.group_name, ref.code_value))
            if code is None:
                problems.append(f"{where}: {ref.group_name} {ref.code_value} does not exist; upsert it first")
            elif not code.is_active:
                problems.append(f"{where}: {ref.group_name} {ref.code_value} is inactive")
    total = sum((distribution.amount for distribution in invoice.distributions), start=Decimal("0.00"))
    if total != invoice.gross_amount:
        problems.append(f"Distributions add up to {total}, not GrossAmount {invoice.gross_amount}")
    return problems


def get_invoice(state: AvidState, invoice_id: str) -> InvoiceRecord:
    with state.lock:
        invoice = state.invoices.get(invoice_id)
    if invoice is None:
        raise AvidApiError(404, f"invoice {invoice_id} does not exist")
    return invoice


def find_invoices(
    state: AvidState,
    *,
    vendor_external_code: str | None,
    number: str | None,
    last_changed_from: dt.datetime | None,
) -> list[InvoiceRecord]:
    with state.lock:
        found = [
            invoice
            for invoice in state.invoices.values()
            if (vendor_external_code is None or invoice.vendor_external_code == vendor_external_code)
            and (number is None or invoice.number == number)
            and (last_changed_from is None or invoice.last_changed_date >= last_changed_from)
        ]
    return sorted(found, key=lambda invoice: invoice.last_changed_date)


def move_invoice(state: AvidState, invoice_id: str, to: InvoiceStatus) -> InvoiceRecord:
    """An approval-workflow move (test control). Paid and partly paid invoices change only by payments."""
    with state.lock:
        invoice = get_invoice(state, invoice_id)
        if to not in _ALLOWED_MOVES.get(invoice.status, set()) or (to is S.VOID and invoice.amount_paid):
            raise AvidApiError(
                409,
                f"invoice {invoice_id} is {invoice.status} (paid {invoice.amount_paid}); cannot move to {to}",
            )
        invoice.status = to
        invoice.last_changed_date = state.clock.now()
        return invoice
