"""Invoices stage: open Sage 100 AP invoices, with their scanned images, into the AvidXchange approval workflow.

AvidXchange accepts no idempotency key and does not deduplicate, so each invoice is leased in DynamoDB (a
conditional write with an owner and an expiry) before it is created. A live lease held by another worker means
"retry later"; an expired lease without a result means an earlier attempt may have created the invoice: it is
looked up by vendor and number before anything is created.

Invoices blocked by their vendor or a code wait (listed, not queued) and are released in the first run after the
blocker clears. Every cycle, what AvidXchange may still pay is compared with Sage's open balances, so a bill paid,
removed or changed outside AvidXchange is flagged before AvidXchange pays it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from ml_connector import fault_points
from ml_connector.domain.avid import AvidInvoice, InvoiceStatus, NewInvoice
from ml_connector.domain.gl_mapping import segment_group_name
from ml_connector.domain.hashing import content_hash
from ml_connector.domain.invoice_mapping import (
    CodedAccount,
    CodingBook,
    CodingNotReady,
    blocker_cleared,
    image_filename,
    image_problem,
    limited_to_open_balance,
    to_new_invoice,
)
from ml_connector.domain.sage import OpenInvoice, Page
from ml_connector.errors import AvidRejected, RecordRejected, RetryLater
from ml_connector.kinds import RecordKind, Stage
from ml_connector.messages import RecordRetry
from ml_connector.sorted_streams import ExternalSorter, join_sorted
from ml_connector.stages.change_stream import record_stamp, run_change_stream
from ml_connector.stages.context import StageContext
from ml_connector.stages.gl import synced_segments
from ml_connector.stages.in_flight import run_bounded
from ml_connector.stages.ledger import RecordLedger
from ml_connector.stages.result import StageResult
from ml_connector.state.models import AuditEvent, KeyMapping, LeaseOutcome, MappingState, OutstandingInvoice

STREAM = "invoices"
BEFORE_APPROVAL = frozenset({InvoiceStatus.RECEIVED, InvoiceStatus.IN_APPROVAL})
# The open-balance check reads Sage's whole open list in pages this large (full invoices with lines: kept small).
BALANCE_PAGE_LIMIT = 200
# ... and holds at most this many (key, balance) pairs of each side in memory; more are sorted on disk.
BALANCE_RUN_SIZE = 20_000
VENDOR_BLOCKER = "vendor:"
LEASE_BLOCKER = "lease:"


class InvoiceWaits(Exception):
    """The invoice cannot go yet; ``blocker`` is what it waits on."""

    def __init__(self, message: str, *, blocker: str) -> None:
        super().__init__(message)
        self.blocker = blocker


def push_invoices(ctx: StageContext) -> StageResult:
    ledger = RecordLedger(ctx, Stage.INVOICES)
    agent_now = ctx.agent.health().server_time
    book = load_coding_book(ctx)
    if not release_waiting(ctx, ledger, book):
        ledger.flush()
        return ledger.result(False)

    def handle(page: Page[OpenInvoice], finished: frozenset[str]) -> frozenset[str] | None:
        if not finished:
            ledger.unreadable(RecordKind.INVOICE, page.invalid)
        todo = [i for i in page.items if record_stamp(i) not in finished]
        vendors = ctx.state.get_mappings(ctx.customer_id, RecordKind.VENDOR, (i.vendor_key for i in todo))
        existing = ctx.state.get_mappings(ctx.customer_id, RecordKind.INVOICE, (i.key for i in todo))

        def push(invoice: OpenInvoice) -> None:
            push_invoice(ctx, ledger, invoice, book, vendors, existing.get(invoice.key))
            fault_points.reach("record.done")

        pushed = run_bounded(
            todo, push, limit=ctx.customer.avid.max_in_flight, go_on=lambda: not ctx.budget.exhausted()
        )
        ledger.flush()
        if len(pushed) < len(todo):
            return finished | {record_stamp(invoice) for invoice in pushed}
        return None

    complete = run_change_stream(
        ctx,
        STREAM,
        lambda since, cursor: ctx.agent.open_invoices_page(
            updated_since=since, invoice_date_from=ctx.customer.invoice_start_date, cursor=cursor
        ),
        handle,
        agent_now=agent_now,
    )
    if complete:
        complete = check_open_balances(ctx, ledger)
        ledger.flush()
    return ledger.result(complete)


def load_coding_book(ctx: StageContext) -> CodingBook:
    """The customer's whole chart as the gl stage synced it (one read per run)."""
    return _coding_book(
        ctx,
        ctx.state.iter_mappings(ctx.customer_id, RecordKind.GL_ACCOUNT),
        ctx.state.iter_mappings(ctx.customer_id, RecordKind.SEGMENT_VALUE),
    )


def coding_book_for(ctx: StageContext, invoice: OpenInvoice) -> CodingBook:
    """Just the accounts and segment values one invoice names (a retry or a release reads no more)."""
    accounts = ctx.state.get_mappings(
        ctx.customer_id, RecordKind.GL_ACCOUNT, (line.account_key for line in invoice.lines)
    )
    value_keys = {
        f"{segment_no}-{code}"
        for mapping in accounts.values()
        for segment_no, code in dict(mapping.details.get("segments", {})).items()
    }
    values = ctx.state.get_mappings(ctx.customer_id, RecordKind.SEGMENT_VALUE, value_keys)
    return _coding_book(ctx, accounts.values(), values.values())


def _coding_book(ctx: StageContext, accounts: Iterable[KeyMapping], values: Iterable[KeyMapping]) -> CodingBook:
    return CodingBook(
        accounts={
            m.source_key: CodedAccount(
                account=str(m.details.get("account", "")),
                active=bool(m.details.get("active", False)),
                segments=dict(m.details.get("segments", {})),
            )
            for m in accounts
            if m.state is MappingState.SYNCED
        },
        dimension_groups={segment.segment_no: segment_group_name(segment) for segment in synced_segments(ctx)},
        segment_values={
            (int(m.details["segment_no"]), str(m.details["code"])): bool(m.details.get("active", False))
            for m in values
            if m.state is MappingState.SYNCED
        },
    )


def release_waiting(ctx: StageContext, ledger: RecordLedger, book: CodingBook) -> bool:
    """Push the waiting invoices whose blocker has cleared (read again by key). False if the budget ran out."""
    waiting = ledger.waiting_records(RecordKind.INVOICE)
    vendor_codes = [
        f.blocked_by.removeprefix(VENDOR_BLOCKER)
        for f in waiting
        if f.blocked_by and f.blocked_by.startswith(VENDOR_BLOCKER)
    ]
    vendors = ctx.state.get_mappings(ctx.customer_id, RecordKind.VENDOR, vendor_codes)
    for failure in waiting:
        blocker = failure.blocked_by or ""
        if not _blocker_cleared(ctx, blocker, book, vendors):
            continue
        if ctx.budget.exhausted():
            return False
        push_again(ctx, ledger, failure.source_key, book)
    ledger.flush()
    return True


def _blocker_cleared(ctx: StageContext, blocker: str, book: CodingBook, vendors: Mapping[str, KeyMapping]) -> bool:
    if blocker.startswith(VENDOR_BLOCKER):
        code = blocker.removeprefix(VENDOR_BLOCKER)
        return vendor_blocker(ctx, code, vendors.get(code)) is None
    if blocker.startswith(LEASE_BLOCKER):
        held = ctx.state.get_mapping(ctx.customer_id, RecordKind.INVOICE, blocker.removeprefix(LEASE_BLOCKER))
        expires = held.lease_expires_at if held is not None else None
        return held is None or held.state is MappingState.SYNCED or expires is None or expires < ctx.clock()
    return blocker_cleared(blocker, book)


def vendor_blocker(ctx: StageContext, code: str, vendor: KeyMapping | None) -> str | None:
    """Why the vendor keeps its invoices out of AvidXchange, or None when they may go."""
    if vendor is None or vendor.state is not MappingState.SYNCED:
        return f"vendor {code} is not in AvidXchange yet; the vendors stage syncs it"
    if vendor.details.get("active") is not False:
        return None
    on_hold_only = vendor.details.get("hold") is True and vendor.details.get("status") == "A"
    if not on_hold_only:
        return f"vendor {code} is inactive in Sage 100; reactivate it there and its invoices follow"
    if ctx.customer.on_hold_invoices == "approve":
        return None
    return (
        f"vendor {code} is on payment hold in Sage 100; its invoices wait until the hold is released"
        " (customer setting on_hold_invoices: wait)"
    )


def push_invoice(
    ctx: StageContext,
    ledger: RecordLedger,
    invoice: OpenInvoice,
    book: CodingBook,
    vendors: Mapping[str, KeyMapping],
    existing: KeyMapping | None,
) -> None:
    key = invoice.key
    if invoice.invoice_date < ctx.customer.invoice_start_date:
        ledger.skipped(RecordKind.INVOICE, key, f"dated {invoice.invoice_date}, before the invoice start date")
        return
    try:
        waits = vendor_blocker(ctx, invoice.vendor_key, vendors.get(invoice.vendor_key))
        if waits is not None:
            raise InvoiceWaits(waits, blocker=VENDOR_BLOCKER + invoice.vendor_key)
        try:
            new_invoice = to_new_invoice(invoice, book)
        except CodingNotReady as coding:
            raise InvoiceWaits(str(coding), blocker=coding.blocker) from None
        digest = content_hash(new_invoice)
        if existing is not None and existing.state is MappingState.SYNCED:
            _update_existing(ctx, ledger, invoice, existing, digest)
        else:
            _create_once(ctx, ledger, invoice, limited_to_open_balance(invoice, new_invoice), digest)
    except InvoiceWaits as waiting:
        ledger.waiting(RecordKind.INVOICE, key, str(waiting), blocked_by=waiting.blocker)
    except RetryLater as error:
        ledger.failed(RecordKind.INVOICE, key, str(error), retryable=True)
    except RecordRejected as error:
        ledger.failed(RecordKind.INVOICE, key, str(error), retryable=False)


def _update_existing(
    ctx: StageContext, ledger: RecordLedger, invoice: OpenInvoice, mapping: KeyMapping, digest: str
) -> None:
    """Read again (a change, the overlap, or a replay): flag content changes, re-upload a changed image."""
    if mapping.content_hash != digest:
        mapping = _flag_change(ctx, ledger, invoice, mapping, digest)
        _sync_image(ctx, ledger, invoice, mapping)
        return
    if _sync_image(ctx, ledger, invoice, mapping):
        ledger.counts.synced += 1
    else:
        ledger.unchanged(RecordKind.INVOICE, invoice.key)


def _create_once(
    ctx: StageContext, ledger: RecordLedger, invoice: OpenInvoice, new_invoice: NewInvoice, digest: str
) -> None:
    """Create the invoice in AvidXchange exactly once, whatever happened to earlier attempts, with its image.

    The happy path costs two state writes: the lease, then one commit of the mapping (with the image's hash), the
    outstanding balance and the audit. A crash before the commit leaves the lease to expire; the next attempt finds
    the invoice (and its image) in AvidXchange and adopts them."""
    key = invoice.key
    ledger.read(
        RecordKind.INVOICE,
        key,
        f"open invoice {new_invoice.gross_amount} changed in Sage {invoice.updated_at:%Y-%m-%d %H:%M:%S}",
    )
    detail = f"transformed; content sha256 {digest}"
    if new_invoice.gross_amount != invoice.invoice_amt:
        detail += f"; pushed for its open balance {invoice.balance} of {invoice.invoice_amt} (partly paid in Sage)"
    ledger.note(RecordKind.INVOICE, key, detail, event=AuditEvent.TRANSFORMED)
    lease = ctx.state.acquire_lease(
        ctx.customer_id, RecordKind.INVOICE, key, owner=ctx.worker_id, now=ctx.clock(), expires_at=ctx.lease_expiry()
    )
    if lease.outcome is LeaseOutcome.SYNCED and lease.mapping is not None:  # another worker finished it meanwhile
        _sync_image(ctx, ledger, invoice, lease.mapping)
        return
    if lease.outcome is LeaseOutcome.HELD:
        # Blocked, not failed: retrying on a schedule would burn deliveries while the lease runs out.
        until = lease.mapping.lease_expires_at if lease.mapping is not None else None
        raise InvoiceWaits(
            f"invoice {key} is being pushed by another worker (its lease runs until {until}); it follows when that"
            " worker finishes or its lease expires",
            blocker=LEASE_BLOCKER + key,
        )
    created: AvidInvoice | None = None
    adopted = False
    if lease.outcome is LeaseOutcome.TAKEN_OVER:  # an earlier attempt ended without a result: it may have created it
        found = ctx.avid.find_invoices(vendor_external_code=new_invoice.vendor_external_code, number=new_invoice.number)
        if len(found) > 1:
            raise RecordRejected(
                f"invoice {key}: {len(found)} invoices with this vendor and number exist in AvidXchange "
                f"({', '.join(i.id for i in found)}); void the duplicates there, then replay"
            )
        if found:
            created, adopted = found[0], True
            ledger.note(
                RecordKind.INVOICE,
                key,
                "found in AvidXchange after an interrupted create; adopted",
                remote_id=created.id,
            )
    if created is None:
        try:
            created = ctx.avid.create_invoice(new_invoice)
        except AvidRejected as refused:
            ctx.state.release_lease(ctx.customer_id, RecordKind.INVOICE, key, ctx.worker_id)
            if vendor_blocker(ctx, new_invoice.vendor_external_code, _vendor_mapping(ctx, new_invoice)) is None:
                raise
            # Held vendors' invoices go to approval by setting; AvidXchange refusing them is a wait, not a failure.
            raise InvoiceWaits(
                f"AvidXchange refuses invoices of vendor {new_invoice.vendor_external_code} while it is on payment"
                f" hold ({refused}); it follows when the hold is released",
                blocker=VENDOR_BLOCKER + new_invoice.vendor_external_code,
            ) from None
        except RecordRejected:
            ctx.state.release_lease(ctx.customer_id, RecordKind.INVOICE, key, ctx.worker_id)
            raise
        fault_points.reach("invoice.created")
    mapping = KeyMapping(
        customer_id=ctx.customer_id,
        kind=RecordKind.INVOICE,
        source_key=key,
        state=MappingState.SYNCED,
        remote_id=created.id,
        content_hash=digest,
        synced_at=ctx.clock(),
        details={"vendor": new_invoice.vendor_external_code, "number": new_invoice.number},
    )
    outstanding = (
        [
            OutstandingInvoice(
                customer_id=ctx.customer_id,
                source_key=key,
                remote_id=created.id,
                balance=new_invoice.gross_amount,
                pushed_at=ctx.clock(),
            )
        ]
        if new_invoice.gross_amount > 0
        else []
    )
    created_detail = f"created in AvidXchange with status {created.status}"
    try:
        image = _image_outcome(ctx, ledger, invoice, mapping, ask_avid=adopted)
    except (RetryLater, RecordRejected):  # the invoice exists: keep it, the image follows in a retry
        ledger.synced(
            RecordKind.INVOICE,
            key,
            mapping=mapping,
            detail=created_detail,
            lease_owner=ctx.worker_id,
            outstanding_puts=outstanding,
        )
        raise
    ledger.synced(
        RecordKind.INVOICE,
        key,
        mapping=image.mapping,
        detail=created_detail + (f"; {image.detail}" if image.detail else ""),
        lease_owner=ctx.worker_id,
        outstanding_puts=outstanding,
    )


def _vendor_mapping(ctx: StageContext, new_invoice: NewInvoice) -> KeyMapping | None:
    return ctx.state.get_mapping(ctx.customer_id, RecordKind.VENDOR, new_invoice.vendor_external_code)


def _flag_change(
    ctx: StageContext, ledger: RecordLedger, invoice: OpenInvoice, mapping: KeyMapping, digest: str
) -> KeyMapping:
    """AvidConnect has no invoice update: a change made in Sage after the push is flagged for the AP team at once,
    before AvidXchange pays the old amount."""
    remote = ctx.avid.get_invoice(mapping.remote_id) if mapping.remote_id else None
    status = remote.status if remote is not None else None
    if status in BEFORE_APPROVAL:
        action = f"it is {status} in AvidXchange: update it there to match, or reject it (AvidConnect has no update)"
    else:
        action = f"it is {status} in AvidXchange: review it with the AP team before it is paid"
    ledger.drifted(
        RecordKind.INVOICE,
        invoice.key,
        f"invoice {invoice.key} changed in Sage 100 after it was pushed (amount {invoice.invoice_amt}, lines or"
        f" dates); {action}",
    )
    updated = mapping.model_copy(update={"content_hash": digest, "synced_at": ctx.clock()})
    ledger.effect(
        RecordKind.INVOICE,
        invoice.key,
        mapping=updated,
        detail=f"changed in Sage after the push; {action}",
        event=AuditEvent.NOTED,
    )
    return updated


@dataclass(frozen=True)
class ImageOutcome:
    mapping: KeyMapping
    """The mapping with what is now known of the image."""
    detail: str | None = None
    """What changed, for the audit; None when nothing did."""
    uploaded: bool = False


def _sync_image(ctx: StageContext, ledger: RecordLedger, invoice: OpenInvoice, mapping: KeyMapping) -> bool:
    """An invoice already in AvidXchange: upload its image unless AvidXchange has this very one. Returns whether it
    uploaded."""
    image = _image_outcome(ctx, ledger, invoice, mapping, ask_avid=True)
    if image.detail is not None:
        event = AuditEvent.PUSHED if image.uploaded else AuditEvent.NOTED
        ledger.effect(RecordKind.INVOICE, invoice.key, mapping=image.mapping, detail=image.detail, event=event)
    return image.uploaded


def _image_outcome(
    ctx: StageContext, ledger: RecordLedger, invoice: OpenInvoice, mapping: KeyMapping, *, ask_avid: bool
) -> ImageOutcome:
    """Upload the invoice's image unless AvidXchange has it already; nothing is stored here (the caller commits).
    ``ask_avid``: an earlier attempt may have uploaded it unrecorded, so AvidXchange is asked first."""
    key = invoice.key
    if not invoice.has_image:
        if mapping.details.get("image") is None:
            no_image = mapping.model_copy(update={"details": {**mapping.details, "image": "none"}})
            return ImageOutcome(no_image, "no scanned image in Sage; pushed without one")
        return ImageOutcome(mapping)
    with ctx.agent.invoice_image(invoice.ap_division_no, invoice.vendor_no, invoice.invoice_no) as image:
        if image is None:
            ledger.note(
                RecordKind.INVOICE,
                key,
                "Sage lists an image but the agent has none; pushed without one",
                remote_id=mapping.remote_id,
            )
            return ImageOutcome(mapping)
        if image.sha256 is not None and image.sha256 in (
            mapping.details.get("image_sha256"),
            _remote_image(ctx, mapping) if ask_avid else None,
        ):
            if mapping.details.get("image_sha256") == image.sha256:
                return ImageOutcome(mapping)
            found = _with_image(mapping, image.sha256, image.content_type)  # uploaded before a crash: record it now
            return ImageOutcome(found, f"image {image.content_type} found in AvidXchange, sha256 {image.sha256}")
        problem = image_problem(image.content_type, image.size, ctx.customer.max_image_bytes)
        if problem is not None:
            raise RecordRejected(
                f"invoice {key}: {problem}; the invoice itself is in AvidXchange as {mapping.remote_id}"
            )
        ctx.avid.upload_invoice_image(
            mapping.remote_id or "",
            filename=image_filename(invoice, image.content_type),
            content_type=image.content_type,
            content=_chunks_reaching_fault_point(image.iter_bytes()),
        )
    fault_points.reach("invoice.image_uploaded")
    return ImageOutcome(
        _with_image(mapping, image.sha256, image.content_type),
        f"image {image.content_type} uploaded, sha256 {image.sha256}",
        uploaded=True,
    )


def _remote_image(ctx: StageContext, mapping: KeyMapping) -> str | None:
    """The image AvidXchange holds, asked only when an earlier attempt may have uploaded one unrecorded."""
    if mapping.details.get("image") is not None or not mapping.remote_id:
        return None
    remote = ctx.avid.get_invoice(mapping.remote_id)
    return remote.image_sha256 if remote is not None and remote.has_image else None


def _with_image(mapping: KeyMapping, sha256: str | None, content_type: str) -> KeyMapping:
    details = {**mapping.details, "image": "uploaded", "image_sha256": sha256, "image_type": content_type}
    return mapping.model_copy(update={"details": details})


def _chunks_reaching_fault_point(chunks: Iterator[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        fault_points.reach("invoice.image_chunk")
        yield chunk


def check_open_balances(ctx: StageContext, ledger: RecordLedger) -> bool:
    """Flag every pushed invoice that AvidXchange may pay for more than Sage still owes: paid, voided or removed in
    Sage, or paid in part outside AvidXchange. Reported once per invoice (open failure, drift count). False when the
    time budget ran out first: the continuation checks again from the start."""
    # Both sides reduced to (key, balance), sorted on disk past a run and joined in key order: memory stays flat
    # however many invoices are open. Sage's list is read only when there is a pushed invoice to compare.
    with _balance_sorter() as pushed, _balance_sorter() as sage:
        listed = (o for o in ctx.state.list_outstanding(ctx.customer_id) if o.flagged is None)
        for count, outstanding in enumerate(listed):
            if count % BALANCE_PAGE_LIMIT == 0 and ctx.budget.exhausted():
                return False
            pushed.add((outstanding.source_key, outstanding.balance))
        if not pushed.count:
            return True
        for page in _open_balance_pages(ctx):
            if ctx.budget.exhausted():
                return False
            sage.add_all(page)
        for key, ours, theirs in join_sorted(pushed, sage, _balance_key, _balance_key):
            if ours and (not theirs or theirs[0][1] < ours[0][1]):
                if ctx.budget.exhausted():
                    return False
                _confirm_drift(ctx, ledger, key)
    return True


Balance = tuple[str, Decimal]
"""An invoice's key and its open balance."""


def _balance_key(balance: Balance) -> str:
    return balance[0]


def _dump_balance(balance: Balance) -> str:
    return json.dumps([balance[0], str(balance[1])])


def _load_balance(line: str) -> Balance:
    key, amount = json.loads(line)
    return key, Decimal(amount)


def _balance_sorter() -> ExternalSorter[Balance]:
    return ExternalSorter(_balance_key, _dump_balance, _load_balance, run_size=BALANCE_RUN_SIZE)


def _open_balance_pages(ctx: StageContext) -> Iterator[list[Balance]]:
    """Every open invoice's balance in Sage, by key, a page of BALANCE_PAGE_LIMIT at a time."""
    cursor: str | None = None
    while True:
        page = ctx.agent.open_invoices_page(
            updated_since=None,
            invoice_date_from=ctx.customer.invoice_start_date,
            cursor=cursor,
            limit=BALANCE_PAGE_LIMIT,
        )
        yield [(i.key, i.balance) for i in page.items]
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _confirm_drift(ctx: StageContext, ledger: RecordLedger, key: str) -> None:
    """Both sides may have moved while the list was read (a payment posted meanwhile): read both again by key."""
    pushed = ctx.state.get_outstanding(ctx.customer_id, [key]).get(key)
    if pushed is None or pushed.flagged is not None:
        return
    invoice = read_invoice(ctx, key)
    if invoice is not None and invoice.balance >= pushed.balance:
        return
    if invoice is None:
        reason = (
            f"invoice {key} is no longer open in Sage 100 (paid, voided or removed there) but AvidXchange may still"
            f" pay {pushed.balance} on it as {pushed.remote_id}; void or reject it in AvidXchange"
        )
    else:
        reason = (
            f"invoice {key}: Sage 100's open balance is {invoice.balance}, but AvidXchange may pay {pushed.balance}"
            f" on it as {pushed.remote_id} (paid or credited outside AvidXchange); adjust or reject it there"
        )
    ledger.drifted(RecordKind.INVOICE, key, reason)
    ledger.effect(
        RecordKind.INVOICE,
        key,
        mapping=None,
        detail="flagged: " + reason,
        event=AuditEvent.NOTED,
        outstanding_puts=[pushed.model_copy(update={"flagged": reason})],
    )


def _no_longer_open(ctx: StageContext, ledger: RecordLedger, key: str) -> None:
    mapping = ctx.state.get_mapping(ctx.customer_id, RecordKind.INVOICE, key)
    if mapping is not None and mapping.state is MappingState.SYNCED:
        ledger.skipped(
            RecordKind.INVOICE, key, f"no longer open in Sage (paid or removed); in AvidXchange as {mapping.remote_id}"
        )
    else:
        ledger.skipped(RecordKind.INVOICE, key, "no longer open in Sage (paid or removed); not created in AvidXchange")


def read_invoice(ctx: StageContext, key: str) -> OpenInvoice | None:
    division, rest = key.split("-", 1)
    vendor_no, invoice_no = rest.split("/", 1)
    return ctx.agent.open_invoice(division, vendor_no, invoice_no)


def push_again(ctx: StageContext, ledger: RecordLedger, key: str, book: CodingBook | None) -> None:
    """Read the invoice again by key (it may have changed, been paid or removed since) and push it; without a
    ``book``, only the codes it names are read."""
    invoice = read_invoice(ctx, key)
    if invoice is None:
        _no_longer_open(ctx, ledger, key)
        return
    vendors = ctx.state.get_mappings(ctx.customer_id, RecordKind.VENDOR, [invoice.vendor_key])
    existing = ctx.state.get_mapping(ctx.customer_id, RecordKind.INVOICE, invoice.key)
    push_invoice(ctx, ledger, invoice, book or coding_book_for(ctx, invoice), vendors, existing)


def retry_invoice(ctx: StageContext, ledger: RecordLedger, retry: RecordRetry) -> None:
    push_again(ctx, ledger, retry.source_key, None)
