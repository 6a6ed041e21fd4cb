"""Invoice images: PDF, TIFF, PNG or JPEG (declared type AND magic bytes), size-limited, read in chunks."""

from __future__ import annotations

import hashlib

from starlette.datastructures import UploadFile

from avid_sim.errors import AvidApiError
from avid_sim.invoices import get_invoice
from avid_sim.models import InvoiceRecord
from avid_sim.state import AvidState

CHUNK_BYTES = 64 * 1024
MAGIC_BYTES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
_LONGEST_MAGIC = max(len(magic) for magics in MAGIC_BYTES.values() for magic in magics)


def image_too_large(invoice_id: str, max_bytes: int) -> AvidApiError:
    return AvidApiError(413, f"invoice {invoice_id}: image is larger than {max_bytes} bytes; send a smaller scan")


async def attach_image(state: AvidState, invoice_id: str, upload: UploadFile, *, max_bytes: int) -> InvoiceRecord:
    """Check and measure the upload chunk by chunk, then record it on the invoice (replacing any)."""
    get_invoice(state, invoice_id)
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    if content_type not in MAGIC_BYTES:
        raise AvidApiError(
            415,
            f"invoice {invoice_id}: image type {content_type or '(none)'!r} is not accepted; "
            "send application/pdf, image/tiff, image/png or image/jpeg",
        )
    digest = hashlib.sha256()
    size = 0
    head = b""
    while chunk := await upload.read(CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise image_too_large(invoice_id, max_bytes)
        if len(head) < _LONGEST_MAGIC:
            head += chunk[: _LONGEST_MAGIC - len(head)]
        digest.update(chunk)
    if size == 0:
        raise AvidApiError(422, f"invoice {invoice_id}: the image file is empty")
    if not head.startswith(MAGIC_BYTES[content_type]):
        raise AvidApiError(422, f"invoice {invoice_id}: the file's content is not {content_type} (its first bytes)")
    with state.lock:
        invoice = get_invoice(state, invoice_id)
        invoice.has_image = True
        invoice.image_sha256 = digest.hexdigest()
        invoice.image_content_type = content_type
        invoice.image_size = size
        invoice.last_changed_date = state.clock.now()
        return invoice
