"""An open Sage 100 AP invoice as an AvidXchange invoice, coded to the GL account and segment values it names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ml_connector.domain.avid import CodeRef, Distribution, NewInvoice
from ml_connector.domain.gl_mapping import ACCOUNTING_CODES_GROUP
from ml_connector.domain.sage import InvoiceLine, OpenInvoice
from ml_connector.errors import RecordRejected

# The image types AvidXchange accepts, with the file extension an upload is named with.
IMAGE_EXTENSIONS = {"application/pdf": ".pdf", "image/tiff": ".tif", "image/png": ".png", "image/jpeg": ".jpg"}


class CodingNotReady(Exception):
    """A code the invoice needs is not in AvidXchange yet (the gl stage has not synced it): the invoice waits."""


@dataclass(frozen=True)
class CodedAccount:
    """A GL account as the gl stage synced it."""

    account: str
    active: bool
    segments: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CodingBook:
    """What AvidXchange holds of the customer's chart: accounts by AccountKey, the segments coded as dimensions
    (SegmentNo -> group name), and each synced segment value's active flag by (SegmentNo, code)."""

    accounts: Mapping[str, CodedAccount]
    dimension_groups: Mapping[int, str]
    segment_values: Mapping[tuple[int, str], bool]


def to_new_invoice(invoice: OpenInvoice, book: CodingBook) -> NewInvoice:
    """Raises ``CodingNotReady`` when a code is missing (wait), ``RecordRejected`` when it can never go as it is."""
    if not invoice.lines:
        raise RecordRejected(f"invoice {invoice.key}: has no GL distribution lines; distribute it in Sage 100")
    if invoice.invoice_due_date is not None and invoice.invoice_due_date < invoice.invoice_date:
        raise RecordRejected(
            f"invoice {invoice.key}: due date {invoice.invoice_due_date} is before invoice date {invoice.invoice_date};"
            " correct it in Sage 100"
        )
    return NewInvoice(
        number=invoice.invoice_no,
        vendor_external_code=f"{invoice.ap_division_no}-{invoice.vendor_no}",
        invoice_date=invoice.invoice_date,
        due_date=invoice.invoice_due_date,
        gross_amount=invoice.invoice_amt,
        po_number=invoice.purchase_order_no.strip(),
        memo=invoice.comment.strip(),
        distributions=[_distribution(invoice, line, book) for line in invoice.lines],
    )


def _distribution(invoice: OpenInvoice, line: InvoiceLine, book: CodingBook) -> Distribution:
    account = book.accounts.get(line.account_key)
    if account is None:
        raise CodingNotReady(f"GL account {line.account} is not in AvidXchange yet; the gl stage syncs it")
    if not account.active:
        raise RecordRejected(
            f"invoice {invoice.key}: GL account {account.account} is not active in AvidXchange;"
            " run the gl stage or reactivate it in Sage 100"
        )
    codes = [CodeRef(group_name=ACCOUNTING_CODES_GROUP, code_value=account.account)]
    for segment_no, group in book.dimension_groups.items():
        value = account.segments.get(str(segment_no))
        if value is None:
            continue
        active = book.segment_values.get((segment_no, value))
        if active is None:
            raise CodingNotReady(f"{group} {value} is not in AvidXchange yet; the gl stage syncs it")
        if not active:
            raise RecordRejected(
                f"invoice {invoice.key}: {group} {value} (on GL account {account.account}) is not active in"
                " AvidXchange; reactivate it in Sage 100 or recode the invoice"
            )
        codes.append(CodeRef(group_name=group, code_value=value))
    return Distribution(amount=line.distribution_amt, description=line.comment.strip(), enterprise_codes=codes)


def base_content_type(content_type: str) -> str:
    return content_type.split(";", maxsplit=1)[0].strip().lower()


def image_filename(invoice: OpenInvoice, content_type: str) -> str:
    return f"{invoice.vendor_no}-{invoice.invoice_no}{IMAGE_EXTENSIONS.get(base_content_type(content_type), '')}"


def image_problem(content_type: str, size: int | None, max_bytes: int) -> str | None:
    """Why AvidXchange would refuse this image, or None."""
    base_type = base_content_type(content_type)
    if base_type not in IMAGE_EXTENSIONS:
        return f"image type {base_type or '(none)'} is not accepted by AvidXchange (PDF, TIFF, PNG or JPEG)"
    if size is not None and size > max_bytes:
        return f"image is {size} bytes, over AvidXchange's limit of {max_bytes}"
    return None
