"""Payments: made by the test controls from approved invoices of one vendor; read in <= 30-day windows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from avid_sim.errors import AvidApiError
from avid_sim.models import (
    CENT,
    InvoiceRecord,
    InvoiceStatus,
    PaymentMethod,
    PaymentRecord,
    PaymentStatus,
    Remittance,
    VirtualCard,
)
from avid_sim.state import AvidState

MAX_WINDOW = dt.timedelta(days=30)
ZERO = Decimal("0.00")
_OPEN = (PaymentStatus.SUBMITTED, PaymentStatus.PROCESSING, PaymentStatus.SENT)
_STARTING = (*_OPEN, PaymentStatus.CLEARED)


@dataclass(frozen=True)
class InvoicePayment:
    """What one payment does to one invoice: ``amount`` is the cash paid (None: the rest of the balance after
    the discount), ``discount`` the early-payment discount taken. They settle ``amount + discount``."""

    invoice_id: str
    amount: Decimal | None = None
    discount: Decimal = ZERO


def create_payment(
    state: AvidState,
    lines: Sequence[InvoicePayment],
    *,
    method: PaymentMethod,
    status: PaymentStatus = PaymentStatus.SENT,
    payment_date: dt.date | None = None,
) -> PaymentRecord:
    if not lines:
        raise AvidApiError(422, "a payment needs at least one invoice")
    if status not in _STARTING:
        raise AvidApiError(
            422, f"a new payment starts Submitted, Processing, Sent or Cleared, not {status.description}"
        )
    if len({line.invoice_id for line in lines}) != len(lines):
        raise AvidApiError(422, "a payment names the same invoice twice; combine the amounts into one line")
    with state.lock:
        remittances = [_remittance(state, line) for line in lines]
        vendors = {state.invoices[line.invoice_id].vendor_external_code for line in lines}
        if len(vendors) != 1:
            raise AvidApiError(422, f"one payment pays one vendor; these invoices belong to {sorted(vendors)}")
        now = state.clock.now()
        paid_on = payment_date or now.date()
        number = str(state.sequences.next("payment"))
        payment = PaymentRecord(
            payment_id=f"P-{number}",
            number=number,
            amount=sum((remittance.net for remittance in remittances), start=ZERO),
            payment_date=paid_on,
            cleared_date=paid_on if status is PaymentStatus.CLEARED else None,
            last_modified_date=now,
            status=status,
            payment_method=method,
            payee_external_vendor_code=vendors.pop(),
            remittances=remittances,
        )
        _add_method_details(state, payment)
        for remittance in remittances:
            _apply(state, state.invoices[remittance.invoice_id], remittance.gross, now)
        state.payments[payment.payment_id] = payment
        return payment


def _remittance(state: AvidState, line: InvoicePayment) -> Remittance:
    invoice = state.invoices.get(line.invoice_id)
    if invoice is None:
        raise AvidApiError(404, f"invoice {line.invoice_id} does not exist")
    if invoice.status is not InvoiceStatus.APPROVED:
        raise AvidApiError(409, f"invoice {invoice.id} is {invoice.status}; only Approved invoices can be paid")
    discount = line.discount.quantize(CENT)
    net = (line.amount if line.amount is not None else invoice.balance - discount).quantize(CENT)
    gross = net + discount
    if net <= 0 or discount < 0 or gross > invoice.balance:
        raise AvidApiError(
            422,
            f"invoice {invoice.id}: paying {net} with discount {discount} exceeds balance {invoice.balance}",
        )
    return Remittance(invoice_id=invoice.id, invoice_number=invoice.number, gross=gross, discount=discount, net=net)


def _add_method_details(state: AvidState, payment: PaymentRecord) -> None:
    if payment.payment_method is PaymentMethod.CHECK:
        payment.check_number = str(state.sequences.next("check"))
    elif payment.payment_method is PaymentMethod.ACH:
        payment.ach_trace_number = f"{state.sequences.next('ach_trace'):015d}"
    else:
        payment.virtual_card = VirtualCard(
            last4=f"{state.rng.randrange(10_000):04d}",
            expiration_month=state.rng.randint(1, 12),
            expiration_year=payment.payment_date.year + 2,
        )


def _apply(state: AvidState, invoice: InvoiceRecord, settled: Decimal, now: dt.datetime) -> None:
    """Add ``settled`` (negative to release) to the invoice's AmountPaid; set Paid/Approved to match."""
    invoice.amount_paid += settled
    invoice.status = InvoiceStatus.PAID if invoice.balance == 0 else InvoiceStatus.APPROVED
    invoice.last_changed_date = now


def get_payment(state: AvidState, payment_id: str) -> PaymentRecord:
    with state.lock:
        payment = state.payments.get(payment_id)
    if payment is None:
        raise AvidApiError(404, f"payment {payment_id} does not exist")
    return payment


def set_payment_status(state: AvidState, payment_id: str, status: PaymentStatus) -> PaymentRecord:
    """Move a payment along Submitted -> Processing -> Sent -> Cleared (forward only), or to Error or Void.

    Error and Void release the invoices it paid (payable again); a Cleared payment cannot be voided."""
    with state.lock:
        payment = get_payment(state, payment_id)
        releases = status in (PaymentStatus.VOID, PaymentStatus.ERROR)
        allowed = payment.status in _OPEN if releases else payment.status in _STARTING and status > payment.status
        if not allowed or (status is PaymentStatus.ERROR and payment.status is PaymentStatus.SENT):
            raise AvidApiError(
                409,
                f"payment {payment_id} is {payment.status.description}; cannot become {status.description}",
            )
        now = state.clock.now()
        payment.status = status
        payment.last_modified_date = now
        if status is PaymentStatus.CLEARED:
            payment.cleared_date = now.date()
        if releases:
            for remittance in payment.remittances:
                _apply(state, state.invoices[remittance.invoice_id], -remittance.gross, now)
        return payment


def payments_modified_between(state: AvidState, start: dt.datetime, end: dt.datetime) -> list[PaymentRecord]:
    """Payments whose LastModifiedDate is within [start, end] (both ends included)."""
    if end < start:
        raise AvidApiError(400, f"lastModifiedTo {end.isoformat()} is before lastModifiedFrom {start.isoformat()}")
    if end - start > MAX_WINDOW:
        raise AvidApiError(
            400,
            f"window {start.isoformat()} .. {end.isoformat()} is over 30 days; split it into smaller windows",
        )
    with state.lock:
        found = [payment for payment in state.payments.values() if start <= payment.last_modified_date <= end]
    return sorted(found, key=lambda payment: payment.last_modified_date)


def after_payments_page_read(state: AvidState, page_number: int) -> None:
    """Carry out the status changes armed for the moment page ``page_number`` of a listing has been answered."""
    with state.lock:
        due = [t for t in state.payment_page_triggers if t.after_page == page_number]
        for trigger in due:
            state.payment_page_triggers.remove(trigger)
            set_payment_status(state, trigger.payment_id, trigger.status)
