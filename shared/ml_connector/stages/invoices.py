"""Invoices stage: open Sage 100 AP invoices, with their scanned images, into the AvidXchange approval workflow.

AvidXchange accepts no idempotency key and does not deduplicate, so each invoice is claimed in DynamoDB (a
conditional write) before it is created. A claim without a stored result means an earlier attempt may have created
it: that invoice is looked up by vendor and number before anything is created.
"""

from __future__ import annotations

from collections.abc import Mapping

from ml_connector.domain.avid import AvidInvoice, InvoiceStatus, NewInvoice
from ml_connector.domain.gl_mapping import segment_group_name
from ml_connector.domain.hashing import content_hash
from ml_connector.domain.invoice_mapping import (
    CodedAccount,
    CodingBook,
    CodingNotReady,
    image_filename,
    image_problem,
    to_new_invoice,
)
from ml_connector.domain.sage import OpenInvoice, Page
from ml_connector.errors import RecordRejected, RetryLater
from ml_connector.retries import RecordRetry
from ml_connector.stage import Stage
from ml_connector.stages.change_stream import run_change_stream
from ml_connector.stages.context import StageContext
from ml_connector.stages.gl import ACCOUNT_KIND, VALUE_KIND, synced_segments
from ml_connector.stages.ledger import RecordLedger
from ml_connector.stages.result import StageResult
from ml_connector.stages.vendors import KIND as VENDOR_KIND
from ml_connector.state.models import AuditEvent, KeyMapping, MappingState

KIND = "invoice"
STREAM = "invoices"
BEFORE_APPROVAL = frozenset({InvoiceStatus.RECEIVED, InvoiceStatus.IN_APPROVAL})


def push_invoices(ctx: StageContext) -> StageResult:
    ledger = RecordLedger(ctx, Stage.INVOICES)
    agent_now = ctx.agent.health().server_time
    book = load_coding_book(ctx)

    def handle(page: Page[OpenInvoice]) -> None:
        ledger.unreadable(KIND, page.invalid)
        vendors = ctx.state.get_mappings(ctx.customer_id, VENDOR_KIND, (vendor_code(i) for i in page.items))
        existing = ctx.state.get_mappings(ctx.customer_id, KIND, (i.key for i in page.items))
        for invoice in page.items:
            push_invoice(ctx, ledger, invoice, book, vendors, existing.get(invoice.key))
        ledger.flush()

    complete = run_change_stream(
        ctx,
        STREAM,
        lambda since, cursor: ctx.agent.open_invoices_page(
            updated_since=since, invoice_date_from=ctx.customer.invoice_start_date, cursor=cursor
        ),
        handle,
        agent_now=agent_now,
    )
    return ledger.result(complete)


def vendor_code(invoice: OpenInvoice) -> str:
    return f"{invoice.ap_division_no}-{invoice.vendor_no}"


def load_coding_book(ctx: StageContext) -> CodingBook:
    accounts = {
        m.source_key: CodedAccount(
            account=str(m.details.get("account", "")),
            active=bool(m.details.get("active", False)),
            segments=dict(m.details.get("segments", {})),
        )
        for m in ctx.state.iter_mappings(ctx.customer_id, ACCOUNT_KIND)
        if m.state is MappingState.SYNCED
    }
    values = {
        (int(m.details["segment_no"]), str(m.details["code"])): bool(m.details.get("active", False))
        for m in ctx.state.iter_mappings(ctx.customer_id, VALUE_KIND)
        if m.state is MappingState.SYNCED
    }
    groups = {segment.segment_no: segment_group_name(segment) for segment in synced_segments(ctx)}
    return CodingBook(accounts=accounts, dimension_groups=groups, segment_values=values)


def push_invoice(
    ctx: StageContext,
    ledger: RecordLedger,
    invoice: OpenInvoice,
    book: CodingBook,
    vendors: Mapping[str, KeyMapping],
    existing: KeyMapping | None,
) -> None:
    key = invoice.key
    record = invoice.model_dump(mode="json")
    if invoice.invoice_date < ctx.customer.invoice_start_date:
        ledger.skipped(KIND, key, f"dated {invoice.invoice_date}, before the invoice start date")
        return
    vendor = vendors.get(vendor_code(invoice))
    if vendor is None or vendor.state is not MappingState.SYNCED:
        ledger.waiting(KIND, key, f"vendor {vendor_code(invoice)} is not in AvidXchange yet", record=record)
        return
    if vendor.details.get("active") is False:
        ledger.failed(
            KIND,
            key,
            f"invoice {key}: vendor {vendor_code(invoice)} is inactive or on payment hold in Sage 100, so AvidXchange"
            " refuses its invoices; release the vendor in Sage, then replay",
            retryable=False,
            record=record,
        )
        return
    try:
        new_invoice = to_new_invoice(invoice, book)
    except CodingNotReady as waiting:
        ledger.waiting(KIND, key, str(waiting), record=record)
        return
    except RecordRejected as rejected:
        ledger.failed(KIND, key, str(rejected), retryable=False, record=record)
        return
    digest = content_hash(new_invoice)
    try:
        if existing is not None and existing.state is MappingState.SYNCED:
            _update_existing(ctx, ledger, invoice, existing, digest)
        else:
            mapping = _create_once(ctx, ledger, invoice, new_invoice, digest)
            _sync_image(ctx, ledger, invoice, mapping)
    except RetryLater as error:
        ledger.failed(KIND, key, str(error), retryable=True, record=record)
    except RecordRejected as error:
        ledger.failed(KIND, key, str(error), retryable=False, record=record)


def _update_existing(
    ctx: StageContext, ledger: RecordLedger, invoice: OpenInvoice, mapping: KeyMapping, digest: str
) -> None:
    """Read again (a change, the overlap, or a replay): note content changes, re-upload a changed image."""
    if mapping.content_hash != digest:
        mapping = _note_change(ctx, ledger, invoice, mapping, digest)
        _sync_image(ctx, ledger, invoice, mapping)
        return
    if _sync_image(ctx, ledger, invoice, mapping):
        ledger.synced(KIND, invoice.key, remote_id=mapping.remote_id, detail="image replaced", event=AuditEvent.PUSHED)
    else:
        ledger.unchanged(KIND, invoice.key)


def _create_once(
    ctx: StageContext, ledger: RecordLedger, invoice: OpenInvoice, new_invoice: NewInvoice, digest: str
) -> KeyMapping:
    """Create the invoice in AvidXchange exactly once, whatever happened to earlier attempts."""
    key = invoice.key
    ledger.read(
        KIND, key, f"open invoice {new_invoice.gross_amount} changed in Sage {invoice.updated_at:%Y-%m-%d %H:%M:%S}"
    )
    ledger.note(KIND, key, f"transformed; content sha256 {digest}", event=AuditEvent.TRANSFORMED)
    earlier = ctx.state.claim(ctx.customer_id, KIND, key, ctx.clock())
    if earlier is not None and earlier.state is MappingState.SYNCED:  # another run finished it meanwhile
        return earlier
    created: AvidInvoice | None = None
    if earlier is not None:  # claimed before without a stored result: that attempt may have created it
        found = ctx.avid.find_invoices(vendor_external_code=new_invoice.vendor_external_code, number=new_invoice.number)
        if len(found) > 1:
            raise RecordRejected(
                f"invoice {key}: {len(found)} invoices with this vendor and number exist in AvidXchange "
                f"({', '.join(i.id for i in found)}); void the duplicates there, then replay"
            )
        if found:
            created = found[0]
            ledger.note(KIND, key, "found in AvidXchange after an interrupted create; adopted", remote_id=created.id)
    if created is None:
        try:
            created = ctx.avid.create_invoice(new_invoice)
        except RecordRejected:
            ctx.state.release_claim(ctx.customer_id, KIND, key)
            raise
    mapping = KeyMapping(
        customer_id=ctx.customer_id,
        kind=KIND,
        source_key=key,
        state=MappingState.SYNCED,
        remote_id=created.id,
        content_hash=digest,
        synced_at=ctx.clock(),
        details={"vendor": new_invoice.vendor_external_code, "number": new_invoice.number},
    )
    ctx.state.put_mapping(mapping)
    ledger.synced(KIND, key, remote_id=created.id, detail=f"created in AvidXchange with status {created.status}")
    return mapping


def _note_change(
    ctx: StageContext, ledger: RecordLedger, invoice: OpenInvoice, mapping: KeyMapping, digest: str
) -> KeyMapping:
    """AvidConnect has no invoice update: a change made in Sage after the push is recorded for the AP team."""
    remote = ctx.avid.get_invoice(mapping.remote_id) if mapping.remote_id else None
    status = remote.status if remote is not None else None
    if status in BEFORE_APPROVAL:
        detail = f"changed in Sage while {status} in AvidXchange; update it there to match (no update API)"
    else:
        detail = f"changed in Sage after AvidXchange status {status}; review it with the AP team"
    updated = mapping.model_copy(update={"content_hash": digest, "synced_at": ctx.clock()})
    ctx.state.put_mapping(updated)
    ledger.synced(KIND, invoice.key, remote_id=mapping.remote_id, detail=detail, event=AuditEvent.NOTED)
    return updated


def _sync_image(ctx: StageContext, ledger: RecordLedger, invoice: OpenInvoice, mapping: KeyMapping) -> bool:
    """Upload the invoice's image unless AvidXchange has this very one already. Returns whether it uploaded."""
    key = invoice.key
    if not invoice.has_image:
        if mapping.details.get("image") is None:
            ledger.note(KIND, key, "no scanned image in Sage; pushed without one", remote_id=mapping.remote_id)
            ctx.state.put_mapping(mapping.model_copy(update={"details": {**mapping.details, "image": "none"}}))
        return False
    with ctx.agent.invoice_image(invoice.ap_division_no, invoice.vendor_no, invoice.invoice_no) as image:
        if image is None:
            ledger.note(
                KIND, key, "Sage lists an image but the agent has none; pushed without one", remote_id=mapping.remote_id
            )
            return False
        if image.sha256 is not None and image.sha256 == mapping.details.get("image_sha256"):
            return False
        problem = image_problem(image.content_type, image.size, ctx.customer.max_image_bytes)
        if problem is not None:
            raise RecordRejected(
                f"invoice {key}: {problem}; the invoice itself is in AvidXchange as {mapping.remote_id}"
            )
        remote_id = mapping.remote_id or ""
        ctx.avid.upload_invoice_image(
            remote_id,
            filename=image_filename(invoice, image.content_type),
            content_type=image.content_type,
            content=image.iter_bytes(),
        )
    details = {**mapping.details, "image": "uploaded", "image_sha256": image.sha256, "image_type": image.content_type}
    ctx.state.put_mapping(mapping.model_copy(update={"details": details}))
    ledger.note(
        KIND,
        key,
        f"image {image.content_type} uploaded, sha256 {image.sha256}",
        remote_id=remote_id,
        event=AuditEvent.PUSHED,
    )
    return True


def retry_invoice(ctx: StageContext, ledger: RecordLedger, retry: RecordRetry) -> None:
    """Read the invoice again by key: it may have changed, been paid, or been removed since it failed."""
    division, rest = retry.source_key.split("-", 1)
    vendor_no, invoice_no = rest.split("/", 1)
    invoice = ctx.agent.open_invoice(division, vendor_no, invoice_no)
    if invoice is None:
        ledger.skipped(KIND, retry.source_key, "no longer open in Sage (paid or removed); not created in AvidXchange")
        return
    vendors = ctx.state.get_mappings(ctx.customer_id, VENDOR_KIND, [vendor_code(invoice)])
    existing = ctx.state.get_mapping(ctx.customer_id, KIND, invoice.key)
    push_invoice(ctx, ledger, invoice, load_coding_book(ctx), vendors, existing)
