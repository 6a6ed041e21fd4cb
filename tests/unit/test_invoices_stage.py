"""The invoices stage on fakes: open Sage 100 invoices, with their images, created once in AvidXchange; blocked ones
wait and go by themselves; changes after the push are flagged."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

import pytest

from ml_connector.domain.avid import InvoiceStatus, NewInvoice
from ml_connector.errors import AvidRejected, OutcomeUnknown, RetryLater
from ml_connector.kinds import RecordKind, Stage
from ml_connector.stages import invoices as invoices_stage
from ml_connector.stages.gl import sync_gl
from ml_connector.stages.invoices import push_invoices
from ml_connector.stages.retry import retry_record
from ml_connector.stages.vendors import sync_vendors
from ml_connector.state.models import AuditEvent, KeyMapping, Lease, MappingState
from tests.unit.builders import (
    CUSTOMER,
    Company,
    Crash,
    crash_at,
    gl_account,
    open_invoice,
    ready_company,
    retry_of,
    sage_vendor,
    scanned_image,
    segment_value,
    time_while,
    unreadable,
)

KEY = "01-ACME/1001"


@pytest.fixture
def ready() -> Company:
    return ready_company()


def with_invoice(systems: Company, invoice_no: str = "1001", **fields: Any) -> str:
    invoice = open_invoice(invoice_no, **fields)
    systems.agent.invoices[invoice.key] = invoice
    return invoice.key


def trail(systems: Company, key: str = KEY) -> list[str]:
    return [e.detail for e in systems.state.list_audit(CUSTOMER, RecordKind.INVOICE, key)]


def mapping_of(systems: Company, key: str = KEY) -> KeyMapping:
    mapping = systems.state.get_mapping(CUSTOMER, RecordKind.INVOICE, key)
    assert mapping is not None
    return mapping


# -- created once, with its image ------------------------------------------------------------------------------------


def test_an_invoice_is_created_once_with_its_image_and_a_second_run_sends_nothing(ready: Company) -> None:
    with_invoice(ready, has_image=True)
    image = scanned_image()
    ready.agent.images[KEY] = image

    first = push_invoices(ready.context())
    second = push_invoices(ready.context())

    (created,) = ready.avid.named("1001")
    assert (created.gross_amount, created.vendor_external_code) == (Decimal("1250.00"), "01-ACME")
    assert ready.avid.image_uploads == [(created.id, image.data)]
    assert (first.counts.synced, second.counts.synced, second.counts.unchanged) == (1, 0, 1)
    mapping = mapping_of(ready)
    assert (mapping.state, mapping.remote_id) == (MappingState.SYNCED, created.id)
    events = [e.event for e in ready.state.list_audit(CUSTOMER, RecordKind.INVOICE, KEY)]
    assert events[:3] == [AuditEvent.READ, AuditEvent.TRANSFORMED, AuditEvent.PUSHED]
    assert any("uploaded" in detail for detail in trail(ready))
    owed = ready.state.get_outstanding(CUSTOMER, [KEY])[KEY]
    assert (owed.balance, owed.remote_id) == (Decimal("1250.00"), created.id)
    assert ready.state.list_failures(CUSTOMER) == []


def test_an_invoice_without_an_image_is_pushed_and_noted_imageless_once(ready: Company) -> None:
    with_invoice(ready)
    push_invoices(ready.context())
    push_invoices(ready.context())

    assert len(ready.avid.named("1001")) == 1 and ready.avid.image_uploads == []
    assert [d for d in trail(ready) if "no scanned image in Sage; pushed without one" in d] != []
    assert len([d for d in trail(ready) if "no scanned image" in d]) == 1


def test_an_image_sage_lists_but_the_agent_lacks_does_not_hold_the_invoice_back(ready: Company) -> None:
    with_invoice(ready, has_image=True)
    result = push_invoices(ready.context())

    assert result.counts.synced == 1 and len(ready.avid.named("1001")) == 1 and ready.avid.image_uploads == []
    assert "Sage lists an image but the agent has none; pushed without one" in trail(ready)
    assert ready.state.list_failures(CUSTOMER) == []


@pytest.mark.parametrize(
    ("image", "limit", "problem"),
    [
        pytest.param(
            scanned_image(b"plain", "text/plain"), 1000, "image type text/plain is not accepted", id="wrong-type"
        ),
        pytest.param(scanned_image(b"x" * 11), 10, "image is 11 bytes, over AvidXchange's limit of 10", id="too-big"),
    ],
)
def test_an_image_avidxchange_would_refuse_fails_the_record_once_and_the_invoice_still_arrives(
    image: Any, limit: int, problem: str
) -> None:
    systems = ready_company(max_image_bytes=limit)
    with_invoice(systems, has_image=True)
    systems.agent.images[KEY] = image

    result = push_invoices(systems.context())
    push_invoices(systems.context())

    (created,) = systems.avid.named("1001")
    assert systems.avid.image_uploads == [] and result.counts.failed == 1
    failure = systems.failure(KEY)
    assert problem in failure.error and f"the invoice itself is in AvidXchange as {created.id}" in failure.error
    assert not failure.retryable and systems.retries.sent == []
    assert mapping_of(systems).state is MappingState.SYNCED


def test_an_image_changed_in_sage_is_uploaded_again_and_only_then(ready: Company) -> None:
    with_invoice(ready, has_image=True)
    ready.agent.images[KEY] = scanned_image(b"%PDF first scan")
    push_invoices(ready.context())
    ready.agent.images[KEY] = scanned_image(b"\x89PNG second scan", "image/png")

    replaced = push_invoices(ready.context())
    again = push_invoices(ready.context())

    (created,) = ready.avid.named("1001")
    assert [data for _, data in ready.avid.image_uploads] == [b"%PDF first scan", b"\x89PNG second scan"]
    assert created.image_sha256 == hashlib.sha256(b"\x89PNG second scan").hexdigest()
    assert (replaced.counts.synced, again.counts.synced, again.counts.unchanged) == (1, 0, 1)


def test_an_image_uploaded_just_before_a_crash_is_found_in_avidxchange_not_uploaded_again(ready: Company) -> None:
    with_invoice(ready, has_image=True)
    ready.agent.images[KEY] = scanned_image()
    with crash_at("invoice.image_uploaded"), pytest.raises(Crash):
        push_invoices(ready.context())
    ready.state.expire_leases()
    ready.state.cursors.clear()

    push_invoices(ready.context())
    push_invoices(ready.context())

    assert len(ready.avid.named("1001")) == 1 and len(ready.avid.image_uploads) == 1
    assert mapping_of(ready).state is MappingState.SYNCED and ready.state.list_failures(CUSTOMER) == []


# -- waits on the vendor or a code, and goes by itself --------------------------------------------------------------


@pytest.mark.parametrize(
    ("vendor", "settings", "reason"),
    [
        pytest.param(
            None, {}, "vendor 01-NEWCO is not in AvidXchange yet; the vendors stage syncs it", id="not-synced"
        ),
        pytest.param(
            sage_vendor("NEWCO", status="I"),
            {},
            "vendor 01-NEWCO is inactive in Sage 100; reactivate it there and its invoices follow",
            id="inactive",
        ),
        pytest.param(sage_vendor("NEWCO", status="T"), {}, "vendor 01-NEWCO is inactive in Sage 100", id="temporary"),
        pytest.param(
            sage_vendor("NEWCO", status="I", hold="Y"),
            {"on_hold_invoices": "approve"},
            "vendor 01-NEWCO is inactive in Sage 100",
            id="inactive-and-held-with-approve",
        ),
    ],
)
def test_an_invoice_of_a_vendor_avidxchange_cannot_take_waits_on_the_vendor(
    vendor: Any, settings: dict[str, str], reason: str
) -> None:
    systems = ready_company(**settings)
    if vendor is not None:
        systems.agent.vendors[vendor.key] = vendor
        sync_vendors(systems.context())
    key = with_invoice(systems, "2001", vendor_no="NEWCO")

    result = push_invoices(systems.context())

    assert result.counts.waiting == 1 and systems.avid.invoices == []
    failure = systems.failure(key)
    assert failure.error.startswith(f"waiting: {reason}") and failure.blocked_by == "vendor:01-NEWCO"
    assert systems.retries.sent == [], "waiting burns no deliveries"
    assert systems.state.list_audit(CUSTOMER, RecordKind.INVOICE, key)[-1].event is AuditEvent.WAITING


def add_inactive_account(systems: Company) -> None:
    systems.agent.accounts["000000470"] = gl_account("000000470", "5020-470", status="I")


def add_account_on_an_unsynced_cost_center(systems: Company) -> None:
    systems.agent.accounts["000000480"] = gl_account("000000480", "5030-480", cost_center="480")


BLOCKED_CODES = [
    pytest.param(
        lambda systems: None,
        "000000999",
        "GL account 6100-300 is not in AvidXchange yet; the gl stage syncs it",
        "account:000000999",
        lambda systems: systems.agent.accounts.update({"000000999": gl_account("000000999", "6100-999")}),
        id="account-not-synced",
    ),
    pytest.param(
        add_inactive_account,
        "000000470",
        "GL account 5020-470 is inactive in Sage 100; reactivate it there",
        "account:000000470",
        lambda systems: systems.agent.accounts.update({"000000470": gl_account("000000470", "5020-470")}),
        id="account-inactive",
    ),
    pytest.param(
        add_account_on_an_unsynced_cost_center,
        "000000480",
        "Cost Center 480 is not in AvidXchange yet; the gl stage syncs it",
        "value:3:480",
        lambda systems: systems.agent.values.update({"3-480": segment_value("480")}),
        id="cost-center-not-synced",
    ),
]


@pytest.mark.parametrize(("setup", "account_key", "reason", "blocker", "fix"), BLOCKED_CODES)
def test_an_invoice_coded_to_a_code_avidxchange_lacks_waits_and_goes_in_the_first_run_after_the_fix(
    ready: Company, setup: Any, account_key: str, reason: str, blocker: str, fix: Any
) -> None:
    setup(ready)
    sync_gl(ready.context())
    with_invoice(ready, account_key=account_key)
    push_invoices(ready.context())
    ready.agent.quiet_feed = True  # the invoice does not change: only its wait can release it
    still = push_invoices(ready.context())

    assert ready.avid.invoices == [] and still.counts.waiting == 0
    failure = ready.failure(KEY)
    assert failure.error.startswith(f"waiting: {reason}")
    assert failure.blocked_by == blocker and ready.retries.sent == []

    fix(ready)
    sync_gl(ready.context())
    released = push_invoices(ready.context())

    assert [i.number for i in ready.avid.invoices] == ["1001"] and released.counts.synced == 1
    assert ready.state.list_failures(CUSTOMER) == []


def test_an_invoice_whose_vendor_was_synced_since_goes_by_itself(ready: Company) -> None:
    ready.agent.vendors["01-LATE"] = sage_vendor("LATE")
    with_invoice(ready, "2001", vendor_no="LATE")
    push_invoices(ready.context())
    sync_vendors(ready.context())
    ready.agent.quiet_feed = True

    push_invoices(ready.context())
    push_invoices(ready.context())

    assert [i.number for i in ready.avid.invoices] == ["2001"] and ready.state.list_failures(CUSTOMER) == []


def test_a_waiting_invoice_paid_or_removed_in_sage_meanwhile_is_skipped_not_created(ready: Company) -> None:
    key = with_invoice(ready, "2002", vendor_no="GONE")
    ready.agent.vendors["01-GONE"] = sage_vendor("GONE")
    push_invoices(ready.context())
    sync_vendors(ready.context())
    del ready.agent.invoices[key]

    result = push_invoices(ready.context())

    assert ready.avid.invoices == [] and result.counts.skipped == 1 and ready.state.list_failures(CUSTOMER) == []
    (skipped,) = ready.state.list_skipped(CUSTOMER, RecordKind.INVOICE)
    assert skipped.reason == "no longer open in Sage (paid or removed); not created in AvidXchange"


def test_releasing_waiting_invoices_stops_at_the_time_budget_and_the_continuation_releases_them(
    ready: Company,
) -> None:
    ready.agent.vendors["01-LATE"] = sage_vendor("LATE")
    with_invoice(ready, "2001", vendor_no="LATE")
    push_invoices(ready.context())
    sync_vendors(ready.context())
    ready.agent.quiet_feed = True

    stopped = push_invoices(ready.context(budget=time_while(lambda: False)))
    assert not stopped.complete
    finished = push_invoices(ready.context())

    assert finished.complete and [i.number for i in ready.avid.invoices] == ["2001"]
    assert ready.state.list_failures(CUSTOMER) == []


# -- leases: never a duplicate ---------------------------------------------------------------------------------------


def test_an_invoice_another_worker_finished_after_this_one_read_the_page_is_not_created_again(
    ready: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_invoice(ready)
    take_lease = ready.state.acquire_lease
    finished_by: list[str] = []

    def the_other_worker_finishes_first(*args: Any, **kwargs: Any) -> Lease:
        if not ready.avid.invoices:
            made = ready.avid.create_invoice(
                NewInvoice(number="1001", vendor_external_code="01-ACME", invoice_date=dt.date(2026, 11, 2),
                           gross_amount=Decimal("1250.00"))
            )  # fmt: skip
            finished_by.append("the other worker")
            ready.state.put_mapping(
                KeyMapping(customer_id=CUSTOMER, kind=RecordKind.INVOICE, source_key=KEY, state=MappingState.SYNCED,
                           remote_id=made.id)
            )  # fmt: skip
        return take_lease(*args, **kwargs)

    monkeypatch.setattr(ready.state, "acquire_lease", the_other_worker_finishes_first)
    result = push_invoices(ready.context())

    assert finished_by == ["the other worker"] and len(ready.avid.named("1001")) == 1
    assert result.counts.failed == result.counts.waiting == 0 and ready.state.list_failures(CUSTOMER) == []


def claimed_by_a_dead_worker(systems: Company, key: str = KEY) -> None:
    past = dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC)
    systems.state.put_mapping(
        KeyMapping(customer_id=CUSTOMER, kind=RecordKind.INVOICE, source_key=key, state=MappingState.CLAIMED,
                   claimed_at=past, lease_owner="dead-worker", lease_expires_at=past)
    )  # fmt: skip


def test_an_expired_lease_whose_create_never_happened_is_taken_over_and_created_once(ready: Company) -> None:
    with_invoice(ready)
    claimed_by_a_dead_worker(ready)

    result = push_invoices(ready.context())

    assert result.counts.synced == 1 and len(ready.avid.named("1001")) == 1
    assert not [d for d in trail(ready) if "adopted" in d]
    assert mapping_of(ready).state is MappingState.SYNCED


def test_an_expired_lease_that_finds_duplicates_in_avidxchange_is_refused_naming_them(ready: Company) -> None:
    with_invoice(ready)
    claimed_by_a_dead_worker(ready)
    for _ in range(2):
        ready.avid.create_invoice(
            NewInvoice(number="1001", vendor_external_code="01-ACME", invoice_date=dt.date(2026, 11, 2),
                       gross_amount=Decimal("1250.00"))
        )  # fmt: skip

    push_invoices(ready.context())

    assert len(ready.avid.named("1001")) == 2, "nothing more created"
    failure = ready.failure(KEY)
    assert not failure.retryable and ready.retries.sent == []
    assert "2 invoices with this vendor and number exist in AvidXchange (I-5001, I-5002)" in failure.error
    assert "void the duplicates there, then replay" in failure.error


@pytest.mark.parametrize(
    "created",
    [pytest.param(True, id="the-503-had-created-it"), pytest.param(False, id="the-503-had-not")],
)
def test_a_create_without_an_answer_is_never_repeated_blindly(ready: Company, created: bool) -> None:
    with_invoice(ready)
    if created:
        ready.avid.unanswered.add("1001")
    else:
        ready.avid.faults.fail_next("create_invoice", OutcomeUnknown("AvidXchange did not answer (503)"))
    push_invoices(ready.context())
    assert [r.source_key for r in ready.retries.sent] == [KEY] and ready.failure(KEY).retryable

    retry_record(ready.context(), retry_of(RecordKind.INVOICE, KEY, Stage.INVOICES), receive_count=1)
    assert len(ready.avid.named("1001")) == int(created), "the lease is live: nobody looks it up or creates it"
    assert ready.failure(KEY).blocked_by == f"lease:{KEY}"

    ready.state.expire_leases()
    ready.agent.quiet_feed = True
    push_invoices(ready.context())

    assert len(ready.avid.named("1001")) == 1 and ready.state.list_failures(CUSTOMER) == []
    assert mapping_of(ready).state is MappingState.SYNCED
    assert bool([d for d in trail(ready) if "adopted" in d]) is created


# -- refusals and passing failures ------------------------------------------------------------------------------------


def test_an_invoice_avidxchange_refuses_fails_once_and_a_replay_creates_it(ready: Company) -> None:
    with_invoice(ready)
    ready.avid.faults.fail_next("create_invoice", AvidRejected("InvoiceDate is in a closed period (422)"))

    result = push_invoices(ready.context())

    assert result.counts.failed == 1 and ready.avid.invoices == [] and ready.retries.sent == []
    failure = ready.failure(KEY)
    assert not failure.retryable and "closed period" in failure.error
    assert ready.state.get_mapping(CUSTOMER, RecordKind.INVOICE, KEY) is None, "the lease is given back"

    retry_record(ready.context(), retry_of(RecordKind.INVOICE, KEY, Stage.INVOICES), receive_count=1)
    assert len(ready.avid.named("1001")) == 1 and ready.state.list_failures(CUSTOMER) == []


def test_a_create_refused_because_the_vendor_went_on_hold_meanwhile_waits_on_the_vendor(ready: Company) -> None:
    with_invoice(ready)

    def the_vendor_goes_on_hold(_: NewInvoice) -> None:
        ready.agent.vendors["01-ACME"] = sage_vendor("ACME", hold="Y", updated="20261110")
        sync_vendors(ready.context())
        raise AvidRejected("vendor 01-ACME is inactive (422)")

    ready.avid.before_create = the_vendor_goes_on_hold
    result = push_invoices(ready.context())

    assert result.counts.waiting == 1 and ready.avid.invoices == []
    failure = ready.failure(KEY)
    assert failure.blocked_by == "vendor:01-ACME" and "while it is on payment hold" in failure.error


def test_an_invoice_that_cannot_go_as_it_is_fails_alone_and_the_rest_go(ready: Company) -> None:
    with_invoice(ready, due="20261001")
    with_invoice(ready, "1002")

    result = push_invoices(ready.context())

    assert [i.number for i in ready.avid.invoices] == ["1002"] and result.counts.failed == 1
    failure = ready.failure(KEY)
    assert "due date 2026-10-01 is before invoice date 2026-11-02" in failure.error
    assert not failure.retryable and ready.retries.sent == []


def test_a_passing_failure_is_queued_for_retry_and_the_rest_go(ready: Company) -> None:
    with_invoice(ready)
    with_invoice(ready, "1002")
    ready.avid.faults.fail_next("create_invoice", RetryLater("AvidXchange is rate limiting (429)"))

    result = push_invoices(ready.context())

    assert (result.counts.synced, result.counts.failed) == (1, 1)
    assert [r.source_key for r in ready.retries.sent] == [KEY] and ready.failure(KEY).retryable


def test_an_unreadable_invoice_fails_alone_once_even_when_its_page_is_read_again(ready: Company) -> None:
    ready.agent.page_size = 2
    ready.agent.invalid["invoices"] = [unreadable("01-ACME/BAD", "distribution lines sum to 1351.00")]
    for number in ("1001", "1002", "1003"):
        with_invoice(ready, number)

    stopped = push_invoices(ready.context(budget=time_while(lambda: len(ready.avid.invoices) < 1)))
    finished = push_invoices(ready.context())

    assert not stopped.complete and finished.complete
    assert sorted(i.number for i in ready.avid.invoices) == ["1001", "1002", "1003"]
    failure = ready.failure("01-ACME/BAD")
    assert (failure.attempts, failure.retryable) == (1, False) and "1351.00" in failure.error
    failed = [e for e in ready.state.list_audit(CUSTOMER, RecordKind.INVOICE, "01-ACME/BAD")]
    assert [e.event for e in failed] == [AuditEvent.FAILED]


def test_an_invoice_dated_before_the_start_date_is_skipped(ready: Company) -> None:
    ready.settings(invoice_start_date="2026-11-15")
    with_invoice(ready, invoice_date="20261102")

    result = push_invoices(ready.context())

    assert result.counts.skipped == 1 and ready.avid.invoices == [] and ready.state.list_failures(CUSTOMER) == []
    (skipped,) = ready.state.list_skipped(CUSTOMER, RecordKind.INVOICE)
    assert skipped.reason == "dated 2026-11-02, before the invoice start date"


# -- after the push --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action"),
    [
        pytest.param(InvoiceStatus.RECEIVED, "it is Received in AvidXchange: update it there to match", id="received"),
        pytest.param(InvoiceStatus.IN_APPROVAL, "it is InApproval in AvidXchange: update it there", id="in-approval"),
        pytest.param(
            InvoiceStatus.APPROVED, "it is Approved in AvidXchange: review it with the AP team", id="approved"
        ),
    ],
)
def test_a_change_in_sage_after_the_push_is_flagged_once_and_never_sent(
    ready: Company, status: InvoiceStatus, action: str
) -> None:
    with_invoice(ready, comment="Pour")
    push_invoices(ready.context())
    before = mapping_of(ready)
    ready.avid.set_status("1001", status)
    with_invoice(ready, comment="Pour - revised")

    flagged = push_invoices(ready.context())
    again = push_invoices(ready.context())

    assert len(ready.avid.named("1001")) == 1
    assert (flagged.counts.drifted, again.counts.drifted) == (1, 0)
    failure = ready.failure(KEY)
    assert failure.flagged and not failure.retryable and failure.attempts == 1, "flagged once, kept until a replay"
    assert f"invoice {KEY} changed in Sage 100 after it was pushed" in failure.error and action in failure.error
    after = mapping_of(ready)
    assert after.remote_id == before.remote_id and after.content_hash != before.content_hash
    assert ready.retries.sent == []


@pytest.mark.parametrize(
    ("amount", "owed"),
    [pytest.param("1250.00", Decimal("1250.00"), id="invoice"), pytest.param("-100.00", None, id="credit-memo")],
)
def test_what_avidxchange_may_pay_is_kept_for_invoices_not_credit_memos(
    ready: Company, amount: str, owed: Decimal | None
) -> None:
    with_invoice(ready, amount=amount)
    push_invoices(ready.context())

    (created,) = ready.avid.named("1001")
    assert created.gross_amount == Decimal(amount)
    outstanding = ready.state.get_outstanding(CUSTOMER, [KEY])
    assert (outstanding[KEY].balance if outstanding else None) == owed


def test_an_invoice_whose_sage_balance_still_covers_what_avidxchange_may_pay_is_not_drift(ready: Company) -> None:
    with_invoice(ready)
    push_invoices(ready.context())

    result = push_invoices(ready.context())

    assert result.counts.drifted == 0 and ready.state.list_failures(CUSTOMER) == []


def test_the_open_balance_sweep_finds_every_drift_across_pages_and_sorted_runs_whatever_sages_order(
    ready: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    numbers = [str(n) for n in range(1001, 1013)]
    for number in numbers:
        with_invoice(ready, number)
    push_invoices(ready.context())
    monkeypatch.setattr(invoices_stage, "BALANCE_PAGE_LIMIT", 5)
    monkeypatch.setattr(invoices_stage, "BALANCE_RUN_SIZE", 3)
    listed = {key: ready.agent.invoices[key] for key in reversed(list(ready.agent.invoices))}
    del listed["01-ACME/1001"], listed["01-ACME/1012"]
    listed["01-ACME/1006"] = open_invoice("1006", balance="250.00")
    ready.agent.invoices = listed

    result = push_invoices(ready.context())

    assert result.counts.drifted == 3
    assert sorted(f.source_key for f in ready.state.list_failures(CUSTOMER)) == [
        "01-ACME/1001", "01-ACME/1006", "01-ACME/1012"
    ]  # fmt: skip


@pytest.mark.parametrize("spent_after_pages", [0, 1], ids=["before-sages-list", "within-sages-list"])
def test_an_open_balance_sweep_out_of_time_ends_the_run_unfinished_and_the_continuation_checks_again(
    ready: Company, monkeypatch: pytest.MonkeyPatch, spent_after_pages: int
) -> None:
    for number in ("1001", "1002", "1003"):
        with_invoice(ready, number)
    push_invoices(ready.context())
    del ready.agent.invoices[KEY]  # paid in Sage outside AvidXchange
    monkeypatch.setattr(invoices_stage, "BALANCE_PAGE_LIMIT", 1)
    sweep_pages: list[int] = []
    list_open = ready.agent.open_invoices_page

    def listed(**query: Any) -> Any:
        sweep_pages.extend([1] if query["updated_since"] is None else [])
        return list_open(**query)

    monkeypatch.setattr(ready.agent, "open_invoices_page", listed)

    stopped = push_invoices(ready.context(budget=time_while(lambda: len(sweep_pages) < spent_after_pages)))
    assert not stopped.complete and stopped.counts.drifted == 0
    assert len(sweep_pages) == spent_after_pages, "no page read once the budget is spent"

    finished = push_invoices(ready.context())
    assert finished.complete and finished.counts.drifted == 1
    assert ready.failure(KEY).flagged


# -- retries ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("account_key", "in_sage", "outcome"),
    [
        pytest.param("000000123", True, "created", id="ready"),
        pytest.param("000000123", False, "skipped", id="gone-from-sage"),
        pytest.param("000000999", True, "waiting", id="account-not-synced"),
    ],
)
def test_a_retry_reads_the_invoice_again_by_key_and_brings_it_to_a_final_state(
    ready: Company, account_key: str, in_sage: bool, outcome: str
) -> None:
    if in_sage:
        with_invoice(ready, account_key=account_key)

    retry_record(ready.context(), retry_of(RecordKind.INVOICE, KEY, Stage.INVOICES), receive_count=1)

    assert len(ready.avid.named("1001")) == (outcome == "created")
    events = [e.event for e in ready.state.list_audit(CUSTOMER, RecordKind.INVOICE, KEY)]
    assert events[0] is AuditEvent.RETRIED
    if outcome == "created":
        assert AuditEvent.PUSHED in events and ready.state.list_failures(CUSTOMER) == []
    if outcome == "skipped":
        assert events[-1] is AuditEvent.SKIPPED
        assert "no longer open in Sage (paid or removed); not created in AvidXchange" in trail(ready)
    if outcome == "waiting":
        assert events[-1] is AuditEvent.WAITING and ready.failure(KEY).blocked_by == "account:000000999"


@pytest.mark.parametrize(
    ("before", "after", "goes"),
    [
        pytest.param(("I", "N"), ("A", "Y"), True, id="inactive-then-on-hold-goes-to-approval"),
        pytest.param(("A", "Y"), ("I", "N"), False, id="on-hold-then-inactive-waits"),
    ],
)
def test_with_on_hold_invoices_approve_the_vendors_current_sage_state_decides(
    before: tuple[str, str], after: tuple[str, str], goes: bool
) -> None:
    systems = ready_company(on_hold_invoices="approve")
    systems.agent.vendors["01-ACME"] = sage_vendor("ACME", status=before[0], hold=before[1], updated="20261102")
    sync_vendors(systems.context())
    systems.agent.vendors["01-ACME"] = sage_vendor("ACME", status=after[0], hold=after[1], updated="20261103")
    sync_vendors(systems.context())
    with_invoice(systems)

    push_invoices(systems.context())

    assert len(systems.avid.named("1001")) == int(goes)
