"""An open Sage 100 AP invoice as an AvidXchange invoice, coded to the GL account and segment values it names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ml_connector.domain.avid import CodeRef, Distribution, NewInvoice
from ml_connector.domain.gl_mapping import ACCOUNTING_CODES_GROUP
from ml_connector.domain.sage import InvoiceLine, OpenInvoice
from ml_connector.errors import RecordRejected

CENT = Decimal("0.01")
# The image types AvidXchange accepts, with the file extension an upload is named with.
IMAGE_EXTENSIONS = {"application/pdf": ".pdf", "image/tiff": ".tif", "image/png": ".png", "image/jpeg": ".jpg"}


class CodingNotReady(Exception):
    """A code the invoice needs is not in AvidXchange, or is inactive in Sage 100: the invoice waits for it.

    ``blocker`` names the code (``account:{AccountKey}`` or ``value:{SegmentNo}:{code}``) so the stage can release
    the invoice in the first run after the code is synced and active."""

    def __init__(self, message: str, *, blocker: str) -> None:
        super().__init__(message)
        self.blocker = blocker


def account_blocker(account_key: str) -> str:
    return f"account:{account_key}"


def value_blocker(segment_no: int, code: str) -> str:
    return f"value:{segment_no}:{code}"


def blocker_cleared(blocker: str, book: CodingBook) -> bool:
    """Whether the code an invoice waits on is now synced and active (False for a blocker that is not a code)."""
    kind, _, rest = blocker.partition(":")
    if kind == "account":
        account = book.accounts.get(rest)
        return account is not None and account.active
    if kind == "value":
        segment_no, _, code = rest.partition(":")
        return book.segment_values.get((int(segment_no), code)) is True
    return False


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
        vendor_external_code=invoice.vendor_key,
        invoice_date=invoice.invoice_date,
        due_date=invoice.invoice_due_date,
        gross_amount=invoice.invoice_amt,
        po_number=invoice.purchase_order_no.strip(),
        memo=invoice.comment.strip(),
        distributions=[_distribution(line, book) for line in invoice.lines],
    )


def limited_to_open_balance(invoice: OpenInvoice, new_invoice: NewInvoice) -> NewInvoice:
    """An invoice partly paid in Sage goes to AvidXchange for its open balance only, so AvidXchange cannot pay more
    than is still owed: the gross becomes the balance and each line is scaled down (rounding left on the largest)."""
    amount, balance = invoice.invoice_amt, invoice.balance
    if amount in (0, balance) or not 0 < balance / amount < 1:
        return new_invoice
    lines = [
        line.model_copy(update={"amount": (line.amount * balance / amount).quantize(CENT, rounding=ROUND_HALF_UP)})
        for line in new_invoice.distributions
    ]
    largest = max(range(len(lines)), key=lambda i: abs(lines[i].amount))
    rest = balance - sum((line.amount for line in lines), Decimal(0))
    lines[largest] = lines[largest].model_copy(update={"amount": lines[largest].amount + rest})
    return new_invoice.model_copy(update={"gross_amount": balance, "distributions": lines})


def _distribution(line: InvoiceLine, book: CodingBook) -> Distribution:
    """Each code mirrors its own Sage status, so the message names the code that is really inactive."""
    account = book.accounts.get(line.account_key)
    blocker = account_blocker(line.account_key)
    if account is None:
        raise CodingNotReady(
            f"GL account {line.account} is not in AvidXchange yet; the gl stage syncs it", blocker=blocker
        )
    if not account.active:
        raise CodingNotReady(
            f"GL account {account.account} is inactive in Sage 100; reactivate it there (or recode the invoice) and"
            " the invoice follows",
            blocker=blocker,
        )
    codes = [CodeRef(group_name=ACCOUNTING_CODES_GROUP, code_value=account.account)]
    for segment_no, group in book.dimension_groups.items():
        value = account.segments.get(str(segment_no))
        if value is None:
            continue
        active = book.segment_values.get((segment_no, value))
        blocker = value_blocker(segment_no, value)
        if active is None:
            raise CodingNotReady(f"{group} {value} is not in AvidXchange yet; the gl stage syncs it", blocker=blocker)
        if not active:
            raise CodingNotReady(
                f"{group} {value} (segment {segment_no} of GL account {account.account}) is inactive in Sage 100;"
                " reactivate it there (or recode the invoice) and the invoice follows",
                blocker=blocker,
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
