"""Invoice push rules through the whole system, on a company that starts empty (records made per test)."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from collections.abc import Iterator
from decimal import Decimal

import pytest

from avid_sim.models import InvoiceRecord
from ml_connector.kinds import Stage
from ml_connector.state.models import AuditEvent, MappingState, RunState
from ml_local.session import LocalStack
from sage_agent.records import InvoiceHeaderFields, VendorFields
from sage_agent.simulated.images import make_pdf, make_png, scanned_page
from sage_agent.simulated.store import Distribution
from tests.support.crashes import arm_crash, fired_crashes
from tests.support.system import ConnectedCustomer, connected_customer, customer_id_for, dead_letters

IMAGE_LIMIT = 60_000


@pytest.fixture
def company(
    stack: LocalStack, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[ConnectedCustomer]:
    """An empty company of this test's own, with one vendor and the chart synced."""
    customer_id = customer_id_for(request, "inv-rules")
    with connected_customer(
        stack, tmp_path_factory.mktemp("inv-rules"), customer_id, seed="empty", max_image_bytes=IMAGE_LIMIT
    ) as system:
        add_vendor(system, "ACME")
        system.queue(Stage.VENDORS, then=(Stage.GL,))
        system.drain()
        yield system


def tick(system: ConnectedCustomer) -> None:
    system.agent.clock.advance(dt.timedelta(minutes=1))


def add_vendor(system: ConnectedCustomer, vendor_no: str) -> None:
    tick(system)
    system.agent.backend.create_vendor(
        VendorFields(APDivisionNo="01", VendorNo=vendor_no, VendorName=f"{vendor_no} Supply")
    )


def account_key(system: ConnectedCustomer, account: str) -> str:
    for mapping in system.state.iter_mappings(system.customer_id, "gl-account"):
        if mapping.details["account"] == account:
            return mapping.source_key
    raise LookupError(f"GL account {account} was not synced by the gl stage")


def add_invoice(
    system: ConnectedCustomer,
    invoice_no: str,
    *,
    vendor_no: str = "ACME",
    amounts: tuple[str, ...] = ("1000.00", "250.00"),
    account: str = "5010-01-100",
    account_key_: str | None = None,
    due: str = "20261202",
) -> str:
    tick(system)
    key = account_key_ or account_key(system, account)
    system.agent.backend.create_invoice(
        InvoiceHeaderFields(
            APDivisionNo="01",
            VendorNo=vendor_no,
            InvoiceNo=invoice_no,
            InvoiceDate="20261102",
            InvoiceDueDate=due,
            Comment="Pour",
            PurchaseOrderNo="0004411",
        ),
        [Distribution(account_key=key, amount=Decimal(a), comment="Concrete") for a in amounts],
    )
    return f"01-{vendor_no}/{invoice_no}"


def attach(system: ConnectedCustomer, invoice_no: str, data: bytes, content_type: str) -> str:
    tick(system)
    system.agent.backend.attach_image("01", "ACME", invoice_no, data, content_type)
    return hashlib.sha256(data).hexdigest()


def avid_invoices(system: ConnectedCustomer, number: str) -> list[InvoiceRecord]:
    return system.avid.state.find_invoices("01-ACME", number)


def test_an_invoice_goes_once_with_its_image_and_the_image_is_replaced_only_when_it_changes(
    company: ConnectedCustomer,
) -> None:
    key = add_invoice(company, "1001")
    first_sha = attach(company, "1001", make_pdf(["Invoice 1001"]), "application/pdf")
    run = company.run(Stage.INVOICES, cycle_id="img-1")
    (invoice,) = avid_invoices(company, "1001")
    assert invoice.has_image and invoice.image_sha256 == first_sha
    assert invoice.gross_amount == Decimal("1250.00")
    assert run.counts.failed == 0

    tick(company)
    again = company.run(Stage.INVOICES, cycle_id="img-2")
    assert again.counts.synced == 0
    assert len(avid_invoices(company, "1001")) == 1

    second_sha = attach(company, "1001", make_png(scanned_page("1001 v2", seed=7)), "image/png")
    replaced = company.run(Stage.INVOICES, cycle_id="img-3")
    (invoice,) = avid_invoices(company, "1001")
    assert invoice.image_sha256 == second_sha != first_sha
    assert replaced.counts.synced == 1
    uploads = [e for e in company.audit("invoice", key) if e.event is AuditEvent.PUSHED and "uploaded" in e.detail]
    assert len(uploads) == 2


def test_an_invoice_without_an_image_is_pushed_and_audited_as_imageless(company: ConnectedCustomer) -> None:
    key = add_invoice(company, "1002")
    company.run(Stage.INVOICES, cycle_id="noimg")
    (invoice,) = avid_invoices(company, "1002")
    assert not invoice.has_image
    assert any("no scanned image" in e.detail for e in company.audit("invoice", key))


def test_an_image_over_the_limit_is_a_clear_record_error_and_the_invoice_still_arrives(
    company: ConnectedCustomer,
) -> None:
    key = add_invoice(company, "1003")
    big = make_pdf(["Invoice 1003", "x" * (IMAGE_LIMIT + 10)])
    attach(company, "1003", big, "application/pdf")
    run = company.run(Stage.INVOICES, cycle_id="bigimg")
    assert run.state is RunState.PARTIAL
    (invoice,) = avid_invoices(company, "1003")
    assert not invoice.has_image
    (failure,) = [f for f in company.state.list_failures(company.customer_id) if f.source_key == key]
    assert f"over AvidXchange's limit of {IMAGE_LIMIT}" in failure.error
    assert not failure.retryable
    company.drain()
    assert not [d for d in dead_letters(company.stack) if d["source_key"] == key], "a refusal is never queued"


def test_an_invoice_whose_vendor_is_not_in_avidxchange_waits_and_goes_by_itself_in_the_next_cycle(
    company: ConnectedCustomer,
) -> None:
    add_vendor(company, "LATE")
    key = add_invoice(company, "2001", vendor_no="LATE")
    company.run(Stage.INVOICES, cycle_id="late-1")
    assert company.avid.state.find_invoices("01-LATE", "2001") == []
    assert AuditEvent.WAITING in [e.event for e in company.audit("invoice", key)]
    (failure,) = [f for f in company.state.list_failures(company.customer_id) if f.source_key == key]
    assert failure.error == "waiting: vendor 01-LATE is not in AvidXchange yet; the vendors stage syncs it"
    assert failure.blocked_by == "vendor:01-LATE"
    company.drain()
    assert dead_letters(company.stack) == [] and company.audit("invoice", key)[-1].event is AuditEvent.WAITING, (
        "waiting burns no deliveries"
    )

    company.run(Stage.VENDORS, cycle_id="late-2")
    company.run(Stage.INVOICES, cycle_id="late-3")  # nothing changed in the invoice: its wait releases it
    assert len(company.avid.state.find_invoices("01-LATE", "2001")) == 1
    assert not [f for f in company.state.list_failures(company.customer_id) if f.source_key == key]
    company.run(Stage.INVOICES, cycle_id="late-4")
    assert len(company.avid.state.find_invoices("01-LATE", "2001")) == 1


def test_an_invoice_paid_in_sage_while_it_waited_is_noted_not_created(company: ConnectedCustomer) -> None:
    add_vendor(company, "GONE")
    key = add_invoice(company, "2002", vendor_no="GONE")
    company.run(Stage.INVOICES, cycle_id="gone-1")
    company.run(Stage.VENDORS, cycle_id="gone-2")
    tick(company)
    company.agent.backend.delete_invoice("01", "GONE", "2002")
    company.run(Stage.INVOICES, cycle_id="gone-3")
    assert company.avid.state.find_invoices("01-GONE", "2002") == []
    last = company.audit("invoice", key)[-1]
    assert last.event is AuditEvent.SKIPPED and "no longer open in Sage" in last.detail
    assert not [f for f in company.state.list_failures(company.customer_id) if f.source_key == key]


def test_bad_dates_and_codes_unknown_to_the_gl_sync_are_refused_or_wait_with_a_reason(
    company: ConnectedCustomer,
) -> None:
    bad_date = add_invoice(company, "3001", due="20261001")
    tick(company)
    company.agent.backend.create_segment_value(3, "777", "New Yard")
    created = company.agent.backend.create_gl_account("5020-01-777", "Lumber - New Yard")
    new_account = add_invoice(company, "3002", account_key_=created.AccountKey)
    company.run(Stage.INVOICES, cycle_id="rules")
    failures = {f.source_key: f.error for f in company.state.list_failures(company.customer_id)}
    assert "due date 2026-10-01 is before invoice date 2026-11-02" in failures[bad_date]
    assert failures[new_account] == "waiting: GL account 5020-01-777 is not in AvidXchange yet; the gl stage syncs it"
    assert avid_invoices(company, "3001") == avid_invoices(company, "3002") == []


def test_a_change_in_sage_after_the_push_is_flagged_for_the_ap_team(company: ConnectedCustomer) -> None:
    key = add_invoice(company, "4001")
    company.run(Stage.INVOICES, cycle_id="chg-1")
    before = company.state.get_mapping(company.customer_id, "invoice", key)
    tick(company)
    company.agent.backend.update_invoice("01", "ACME", "4001", Comment="Pour - revised")
    company.run(Stage.INVOICES, cycle_id="chg-2")
    after = company.state.get_mapping(company.customer_id, "invoice", key)
    assert before is not None and after is not None
    assert after.content_hash != before.content_hash and after.remote_id == before.remote_id
    noted = company.audit("invoice", key)[-1]
    assert noted.event is AuditEvent.NOTED and "it is Received in AvidXchange: update it there" in noted.detail
    (flag,) = [f for f in company.state.list_failures(company.customer_id) if f.source_key == key]
    assert flag.flagged and "changed in Sage 100 after it was pushed" in flag.error
    assert len(avid_invoices(company, "4001")) == 1
    company.run(Stage.INVOICES, cycle_id="chg-3")
    assert [f.source_key for f in company.state.list_failures(company.customer_id) if f.flagged] == [key], (
        "a flag stays until an operator replays the record"
    )


def test_a_crash_between_create_and_mapping_write_leaves_exactly_one_invoice(company: ConnectedCustomer) -> None:
    key = add_invoice(company, "5001")
    # The worker dies right after AvidXchange created the invoice, before any state is written: as Lambda ending it.
    arm_crash(company.stack.runtime, "InvoicesFunction", "invoice.created")
    company.queue(Stage.INVOICES, cycle_id="crash")
    first = company.stack.driver.deliver_once()
    assert first.failed == 1 and fired_crashes(company.stack.runtime, "InvoicesFunction") == ["invoice.created"]
    lease = company.state.get_mapping(company.customer_id, "invoice", key)
    assert lease is not None and lease.state is MappingState.CLAIMED and lease.lease_owner
    assert len(avid_invoices(company, "5001")) == 1, "the invoice was created before the crash"

    # The order comes back after its visibility timeout; while the lease is live the invoice waits for it, and no
    # worker looks it up or creates it.
    company.drain()
    assert len(avid_invoices(company, "5001")) == 1
    (waits,) = [f for f in company.state.list_failures(company.customer_id) if f.source_key == key]
    assert waits.blocked_by == f"lease:{key}"

    expire_leases(company, "invoice")  # the crashed invocation's deadline has passed
    company.run(Stage.INVOICES, cycle_id="crash-after-expiry")
    assert len(avid_invoices(company, "5001")) == 1
    mapping = company.state.get_mapping(company.customer_id, "invoice", key)
    assert mapping is not None and mapping.state is MappingState.SYNCED
    assert any("adopted" in e.detail for e in company.audit("invoice", key))
    assert not [f for f in company.state.list_failures(company.customer_id) if f.source_key == key]


def expire_leases(system: ConnectedCustomer, kind: str) -> None:
    """What time passing does to a dead worker's leases (its invocation's deadline and the margin are over)."""
    for mapping in system.state.iter_mappings(system.customer_id, kind):
        if mapping.state is MappingState.CLAIMED:
            past = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
            system.state.put_mapping(mapping.model_copy(update={"lease_expires_at": past}))


def test_an_invoice_whose_lines_do_not_balance_fails_alone_with_the_reason(company: ConnectedCustomer) -> None:
    bad = add_invoice(company, "6001")
    good = add_invoice(company, "6002")
    # A damaged Sage row (say, a bad import): the distribution no longer adds up to the invoice amount.
    with sqlite3.connect(company.agent.backend.db_path) as db:
        db.execute(
            "UPDATE invoice_lines SET DistributionAmt = DistributionAmt + 100"
            " WHERE VendorNo = 'ACME' AND InvoiceNo = '6001' AND LineNo = 1"
        )
    run = company.run(Stage.INVOICES, cycle_id="unbalanced")
    assert run.state is RunState.PARTIAL
    failures = {f.source_key: f.error for f in company.state.list_failures(company.customer_id)}
    assert "distribution lines sum to 1251.00, InvoiceAmt is 1250.00" in failures[bad]
    assert good not in failures
    assert avid_invoices(company, "6001") == []
    assert len(avid_invoices(company, "6002")) == 1
