"""A settled AvidXchange payment as a Sage 100 AP manual check, matched by vendor + invoice number."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import Literal

from ml_connector.domain.avid import AvidPayment, PaymentMethodName, PaymentStatus
from ml_connector.domain.sage import ManualCheck, ManualCheckLine, OpenInvoice, PaymentMethod, RecordedManualCheck
from ml_connector.errors import RecordRejected

CHECK_NO_PREFIX = "AX"
_SHORT_NUMBER = re.compile(r"^[A-Za-z0-9]{1,8}$")

SAGE_METHOD = {
    PaymentMethodName.CHECK: PaymentMethod.CHECK,
    PaymentMethodName.ACH: PaymentMethod.ACH,
    PaymentMethodName.VIRTUAL_CARD: PaymentMethod.VIRTUAL_CARD,
}


def is_due_for_posting(payment: AvidPayment, settle_on: Literal["Sent", "Cleared"]) -> bool:
    """Settled per the customer's setting: ``Sent`` posts sent and cleared payments, ``Cleared`` only cleared ones."""
    if settle_on == "Cleared":
        return payment.status.description is PaymentStatus.CLEARED
    return payment.status.description in (PaymentStatus.SENT, PaymentStatus.CLEARED)


def derive_check_no(payment: AvidPayment) -> str:
    """The Sage CheckNo for a payment, the same on every attempt: ``AX`` + the AvidPay number when it fits in 10
    characters, else ``AX`` + 8 characters of a hash of the PaymentId. A retried post therefore meets
    ``409 already_exists`` instead of paying twice."""
    if _SHORT_NUMBER.fullmatch(payment.number):
        return f"{CHECK_NO_PREFIX}{payment.number}"
    digest = base64.b32encode(hashlib.sha256(payment.payment_id.encode()).digest()).decode()
    return f"{CHECK_NO_PREFIX}{digest[:8]}"


def split_vendor_code(code: str) -> tuple[str, str]:
    """``01-ACME`` -> (``01``, ``ACME``): the connector's ExternalVendorCode is APDivisionNo-VendorNo."""
    division, separator, vendor_no = code.partition("-")
    if not separator or not re.fullmatch(r"\d{2}", division) or not vendor_no:
        raise RecordRejected(f"payee {code!r} is not a vendor the connector created (APDivisionNo-VendorNo)")
    return division, vendor_no


def reference_of(payment: AvidPayment) -> str:
    """The ACH trace number or the virtual card's last four; a check's number goes in the comment."""
    method = payment.payment_method.description
    if method is PaymentMethodName.ACH:
        return payment.ach_trace_number or ""
    if method is PaymentMethodName.VIRTUAL_CARD:
        return payment.virtual_card.last4 if payment.virtual_card else ""
    return ""


def to_manual_check(payment: AvidPayment, *, bank_code: str, open_invoices: Mapping[str, OpenInvoice]) -> ManualCheck:
    """``open_invoices``: the Sage open invoices the remittances name, by invoice number (missing = not open)."""
    division, vendor_no = split_vendor_code(payment.payee_external_vendor_code)
    lines = []
    for remittance in payment.remittances:
        invoice = open_invoices.get(remittance.invoice_number)
        if invoice is None:
            raise RecordRejected(
                f"payment {payment.number}: invoice {remittance.invoice_number} of vendor {division}-{vendor_no} is not"
                " open in Sage 100 (paid or removed); record this payment there by hand"
            )
        if remittance.net + remittance.discount > invoice.balance:
            raise RecordRejected(
                f"payment {payment.number}: pays {remittance.net + remittance.discount} on invoice "
                f"{remittance.invoice_number}, whose open balance in Sage 100 is {invoice.balance}"
            )
        lines.append(
            ManualCheckLine(
                invoice_no=remittance.invoice_number,
                header_seq_no=invoice.header_seq_no,
                amount_paid=remittance.net,
                discount_amt=remittance.discount,
            )
        )
    if not lines:
        raise RecordRejected(f"payment {payment.number}: has no remittances; nothing to apply in Sage 100")
    comment = f"AvidPay {payment.number}"
    if payment.payment_method.description is PaymentMethodName.CHECK and payment.check_number:
        comment += f" chk {payment.check_number}"
    return ManualCheck(
        bank_code=bank_code,
        check_no=derive_check_no(payment),
        check_date=payment.payment_date,
        ap_division_no=division,
        vendor_no=vendor_no,
        payment_method=SAGE_METHOD[payment.payment_method.description],
        reference=reference_of(payment),
        comment=comment[:30],
        lines=lines,
    )


def records_payment(recorded: RecordedManualCheck, payment: AvidPayment) -> bool:
    """Whether a check already in Sage under this payment's number is this payment (an earlier post whose answer
    was lost): same vendor, and the same amounts applied to the same invoices."""
    division, vendor_no = split_vendor_code(payment.payee_external_vendor_code)
    applied = {(line.invoice_no, line.amount_paid, line.discount_amt) for line in recorded.lines}
    remitted = {(r.invoice_number, r.net, r.discount) for r in payment.remittances}
    return (recorded.ap_division_no, recorded.vendor_no) == (division, vendor_no) and applied == remitted
