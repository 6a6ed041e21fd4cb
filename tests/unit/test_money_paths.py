"""The paths where money could slip (issue 10), each proven on in-memory fakes of both systems and the state store.

Every test here failed on the connector before the lease, the skip-free payment windows, the audit written with its
effect, self-releasing waits, one-time refusals, parked retries and open-balance checks were built.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from ml_connector import fault_points
from ml_connector.domain.avid import AvidPayment, InvalidPayment, PaymentWindow
from ml_connector.domain.sage import OpenInvoice, SageVendor, SegmentValue
from ml_connector.errors import AgentOffline, AvidAuthFailed, RetryLater, SageValidationFailed
from ml_connector.health import is_paused, pause
from ml_connector.kinds import Stage
from ml_connector.messages import RecordRetry
from ml_connector.stages.gl import sync_gl
from ml_connector.stages.invoices import push_invoices
from ml_connector.stages.parking import park, requeue_parked
from ml_connector.stages.payments import post_payments
from ml_connector.stages.retry import retry_record
from ml_connector.stages.vendors import sync_vendors
from ml_connector.state.models import MappingState
from tests.fakes import Systems
from tests.support.customers import make_customer
from tests.unit.builders import gl_account

CUSTOMER = "acme-build"
T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def vendor(vendor_no: str, *, status: str = "A", hold: str = "N") -> SageVendor:
    return SageVendor.model_validate(
        {"APDivisionNo": "01", "VendorNo": vendor_no, "VendorName": f"{vendor_no} Supply", "VendorStatus": status,
         "HoldPayment": hold, "DateUpdated": "20261101", "TimeUpdated": "9.5"}
    )  # fmt: skip


def cost_center(code: str, *, status: str = "A") -> SegmentValue:
    return SegmentValue.model_validate(
        {"SegmentNo": 3, "SubAccountCode": code, "SubAccountDesc": f"Site {code}", "Status": status,
         "DateUpdated": "20261101", "TimeUpdated": "9.5"}
    )  # fmt: skip


def invoice(number: str, *, vendor_no: str = "ACME", amount: str = "1250.00", balance: str | None = None,
            account_key: str = "000000123") -> OpenInvoice:  # fmt: skip
    return OpenInvoice.model_validate(
        {"APDivisionNo": "01", "VendorNo": vendor_no, "InvoiceNo": number, "HeaderSeqNo": "000000",
         "InvoiceDate": "20261102", "InvoiceDueDate": "20261202", "TermsCode": "01", "InvoiceAmt": amount,
         "Balance": balance or amount, "HoldPayment": "N", "Comment": "", "PurchaseOrderNo": "",
         "Lines": [{"AccountKey": account_key, "Account": "6100-300", "DistributionAmt": amount, "Comment": ""}],
         "HasImage": False, "DateUpdated": "20261102", "TimeUpdated": "10.0"}
    )  # fmt: skip


def payment(payment_id: str, invoice_no: str, *, amount: str = "1250.00", status: str = "Sent",
            method: str = "Check", vendor_no: str = "ACME", modified: dt.datetime = T0) -> AvidPayment:  # fmt: skip
    return AvidPayment.model_validate(
        {"PaymentId": payment_id, "Number": payment_id.removeprefix("P-"), "Amount": amount,
         "PaymentDate": "2026-11-20", "LastModifiedDate": modified.isoformat(),
         "Status": {"Id": 3, "Description": status}, "PaymentMethod": {"Id": 1, "Description": method},
         "CheckNumber": "104522", "PayeeExternalVendorCode": f"01-{vendor_no}",
         "Remittances": [{"InvoiceId": "I-1", "InvoiceNumber": invoice_no, "Gross": amount, "Discount": "0.00",
                          "Net": amount}]}
    )  # fmt: skip


@pytest.fixture
def systems() -> Systems:
    """A company with one vendor, one account on cost center 300, both synced."""
    made = Systems(customer=make_customer(CUSTOMER))
    made.agent.vendors = {"01-ACME": vendor("ACME")}
    made.agent.values = {"3-300": cost_center("300")}
    made.agent.accounts = {"000000123": gl_account("000000123", "6100-300", cost_center="300")}
    sync_vendors(made.context())
    sync_gl(made.context())
    return made


@pytest.fixture(autouse=True)
def no_fault_hook() -> Any:
    yield
    fault_points.install(None)


def crash_at(point: str) -> None:
    class Crash(BaseException):
        pass

    def hook(reached: str) -> bool:
        if reached == point:
            fault_points.install(None)
            raise Crash(point)
        return False

    fault_points.install(hook)


# 1. concurrent workers never create an invoice twice -------------------------------------------------------------


def test_two_workers_pushing_one_invoice_at_once_create_it_once(systems: Systems) -> None:
    systems.agent.invoices = {"01-ACME/10045": invoice("10045")}
    inside_create, release = threading.Event(), threading.Event()

    def slow_create(_: Any) -> None:
        inside_create.set()
        release.wait(timeout=30)

    systems.avid.before_create = slow_create
    first = threading.Thread(target=lambda: push_invoices(systems.context()))
    first.start()
    assert inside_create.wait(timeout=30)
    systems.avid.before_create = lambda invoice: None
    second = push_invoices(systems.context())  # the first worker still holds its live lease
    release.set()
    first.join(timeout=30)

    assert len(systems.avid.named("10045")) == 1
    assert second.counts.waiting == 1 and systems.retries.sent == [], "the loser waits, burning no deliveries"
    (waits,) = systems.state.list_failures(CUSTOMER)
    assert waits.blocked_by == "lease:01-ACME/10045" and "being pushed by another worker" in waits.error
    push_invoices(systems.context())  # the next run finds the lease resolved: nothing to create, the wait ends
    assert systems.state.list_failures(CUSTOMER) == [] and len(systems.avid.named("10045")) == 1
    mapping = systems.state.get_mapping(CUSTOMER, "invoice", "01-ACME/10045")
    assert mapping is not None and mapping.state is MappingState.SYNCED


def test_a_crash_after_the_create_is_adopted_once_its_lease_expires(systems: Systems) -> None:
    systems.agent.invoices = {"01-ACME/10045": invoice("10045")}
    crash_at("invoice.created")
    with pytest.raises(BaseException, match=r"invoice\.created"):
        push_invoices(systems.context())
    assert len(systems.avid.named("10045")) == 1
    systems.state.cursors.clear()

    live = push_invoices(systems.context())  # the crashed worker's lease is still live: wait, never look up
    assert live.counts.waiting == 1 and len(systems.avid.named("10045")) == 1
    push_invoices(systems.context())
    assert len(systems.avid.named("10045")) == 1 and systems.state.list_failures(CUSTOMER)[0].waiting
    systems.state.expire_leases()
    push_invoices(systems.context())  # the crashed invocation is certainly over: look it up, adopt it

    assert len(systems.avid.named("10045")) == 1
    assert "found in AvidXchange after an interrupted create; adopted" in [
        e.detail for e in systems.state.list_audit(CUSTOMER, "invoice", "01-ACME/10045")
    ]
    assert systems.state.list_failures(CUSTOMER) == []


# 3. an effect is never durable without its audit -----------------------------------------------------------------


def test_an_outage_mid_page_leaves_every_created_invoice_audited(systems: Systems) -> None:
    systems.agent.invoices = {f"01-ACME/{n}": invoice(str(n)) for n in range(7001, 7006)}
    created = 0

    def third_create_finds_the_tokens_revoked(_: Any) -> None:
        nonlocal created
        created += 1
        if created == 3:
            raise AvidAuthFailed("tokens revoked")

    systems.avid.before_create = third_create_finds_the_tokens_revoked
    with pytest.raises(AvidAuthFailed):
        push_invoices(systems.context())

    assert len(systems.avid.invoices) >= 2, "the creates before the outage (and any in flight with it) went through"
    for made in systems.avid.invoices:
        key = f"01-ACME/{made.number}"
        events = systems.state.events("invoice", key)
        assert events[:3] == ["read", "transformed", "pushed"], f"{key} was created and must be audited: {events}"


# 2, 4, 5. payments: no skip, a budget, one bad payment fails alone --------------------------------------------------


def open_invoices_for(systems: Systems, numbers: list[str]) -> None:
    systems.agent.invoices = {f"01-ACME/{n}": invoice(n) for n in numbers}


def test_payments_stop_at_the_time_budget_and_the_continuation_posts_the_rest_once(systems: Systems) -> None:
    numbers = [str(9000 + n) for n in range(5)]
    open_invoices_for(systems, numbers)
    systems.avid.windows = [
        PaymentWindow(
            modified_from=T0 - dt.timedelta(days=1),
            modified_to=T0 + dt.timedelta(days=1),
            items=[payment(f"P-{n}", n) for n in numbers],
        )
    ]
    systems.customer = make_customer(CUSTOMER, invoice_start_date="2026-11-15")

    checks = itertools.count(1)

    def two_checks_then_spent(point: str) -> bool:
        return point == "budget.check" and next(checks) > 2  # the budget is asked before each payment starts

    fault_points.install(two_checks_then_spent)
    try:
        first = post_payments(systems.context())
    finally:
        fault_points.install(None)
    assert not first.complete and len(systems.agent.checks) == 2
    second = post_payments(systems.context())
    assert second.complete
    assert sorted(systems.agent.checks) == sorted(f"A/AX{n}" for n in numbers), "each posted exactly once"
    assert second.counts.unchanged == 2


def test_one_payment_that_breaks_the_contract_fails_alone_and_the_rest_post(systems: Systems) -> None:
    open_invoices_for(systems, ["9100"])
    systems.customer = make_customer(CUSTOMER, invoice_start_date="2026-11-15")
    systems.avid.windows = [
        PaymentWindow(
            modified_from=T0 - dt.timedelta(days=1),
            modified_to=T0 + dt.timedelta(days=1),
            items=[payment("P-9100", "9100")],
            invalid=[InvalidPayment(payment_id="P-ODD", errors="Status.Description: 'Wired' is not allowed")],
        )
    ]
    result = post_payments(systems.context())

    assert result.complete and list(systems.agent.checks) == ["A/AX9100"]
    failure = next(f for f in systems.state.list_failures(CUSTOMER) if f.source_key == "P-ODD")
    assert not failure.retryable and "Wired" in failure.error
    assert systems.state.get_health(CUSTOMER) is None, "the customer is not paused for one payment"


# 6. blocked invoices wait, and go by themselves once the blocker clears -------------------------------------------


def test_an_invoice_of_a_vendor_on_hold_waits_and_goes_in_the_cycle_after_the_release(systems: Systems) -> None:
    systems.agent.vendors["01-HOLDCO"] = vendor("HOLDCO", hold="Y")
    sync_vendors(systems.context())
    systems.agent.invoices = {"01-HOLDCO/GS-3310": invoice("GS-3310", vendor_no="HOLDCO")}
    first = push_invoices(systems.context())
    assert first.counts.waiting == 1 and systems.avid.invoices == []
    assert systems.retries.sent == [], "waiting burns no deliveries"
    failure = systems.state.list_failures(CUSTOMER)[0]
    assert failure.blocked_by == "vendor:01-HOLDCO" and "payment hold" in failure.error

    systems.agent.vendors["01-HOLDCO"] = vendor("HOLDCO", hold="N")
    sync_vendors(systems.context())
    systems.agent.quiet_feed = True  # the vendor changed, the invoice did not: only the waiting list can release it
    push_invoices(systems.context())

    assert [i.number for i in systems.avid.invoices] == ["GS-3310"]
    assert systems.state.list_failures(CUSTOMER) == []


def test_with_on_hold_invoices_approve_a_held_vendors_invoice_goes_to_approval(systems: Systems) -> None:
    systems.customer = make_customer(CUSTOMER, on_hold_invoices="approve")
    systems.agent.vendors["01-HOLDCO"] = vendor("HOLDCO", hold="Y")
    sync_vendors(systems.context())
    systems.agent.invoices = {"01-HOLDCO/GS-3310": invoice("GS-3310", vendor_no="HOLDCO")}
    push_invoices(systems.context())
    assert [i.number for i in systems.avid.invoices] == ["GS-3310"]
    assert systems.avid.vendors["01-HOLDCO"].active is False, "the held vendor stays unpayable in AvidXchange"


# 7. refusals fail once --------------------------------------------------------------------------------------------


def test_a_check_sage_refuses_fails_once_and_is_never_queued(systems: Systems) -> None:
    open_invoices_for(systems, ["9200"])
    systems.customer = make_customer(CUSTOMER, invoice_start_date="2026-11-15")
    systems.avid.windows = [
        PaymentWindow(modified_from=T0, modified_to=T0 + dt.timedelta(hours=1), items=[payment("P-9200", "9200")])
    ]
    systems.agent.faults.fail_next("post_manual_check", SageValidationFailed("date outside the AP period", fields=[]))
    result = post_payments(systems.context())

    assert result.counts.failed == 1 and systems.retries.sent == []
    (failure,) = systems.state.list_failures(CUSTOMER)
    assert not failure.retryable and "AP period" in failure.error


def test_a_retry_that_meets_a_refusal_ends_without_raising() -> None:
    systems = Systems(customer=make_customer(CUSTOMER))
    systems.agent.invoices = {"01-ACME/10045": invoice("10045", amount="0.00")}
    systems.agent.invoices["01-ACME/10045"] = systems.agent.invoices["01-ACME/10045"].model_copy(update={"lines": []})
    systems.agent.vendors = {"01-ACME": vendor("ACME")}
    sync_vendors(systems.context())
    retry = RecordRetry(
        customer_id=CUSTOMER, stage=Stage.INVOICES, kind="invoice", source_key="01-ACME/10045", reason="x",
        first_failed_at=T0,
    )  # fmt: skip
    retry_record(systems.context(), retry, receive_count=1)  # no RecordStillFailing: the message is done
    (failure,) = systems.state.list_failures(CUSTOMER)
    assert not failure.retryable and "no GL distribution lines" in failure.error


# 8. a paused customer's retries are parked, not dead-lettered ---------------------------------------------------


def test_parked_retries_go_back_on_the_queue_when_the_customer_recovers() -> None:
    systems = Systems(customer=make_customer(CUSTOMER))
    pause(systems.state, CUSTOMER, AgentOffline("agent unreachable"), T0)
    assert is_paused(systems.state.get_health(CUSTOMER), T0 + dt.timedelta(minutes=1))
    retry = RecordRetry(
        customer_id=CUSTOMER, stage=Stage.INVOICES, kind="invoice", source_key="01-ACME/1", reason="423",
        first_failed_at=T0,
    )  # fmt: skip
    park(systems.state, retry)
    assert systems.state.list_failures(CUSTOMER)[0].parked

    assert requeue_parked(systems.state, systems.retries, CUSTOMER, T0 + dt.timedelta(days=3)) == 1
    assert [r.source_key for r in systems.retries.sent] == ["01-ACME/1"]
    assert not systems.state.list_failures(CUSTOMER)[0].parked


# 9. AvidXchange never may pay more than Sage still owes ---------------------------------------------------------


def test_a_partly_paid_invoice_is_pushed_for_its_open_balance(systems: Systems) -> None:
    systems.agent.invoices = {"01-ACME/10045": invoice("10045", amount="1250.00", balance="500.00")}
    push_invoices(systems.context())
    (pushed,) = systems.avid.invoices
    assert pushed.gross_amount == Decimal("500.00")
    assert systems.state.get_outstanding(CUSTOMER, ["01-ACME/10045"])["01-ACME/10045"].balance == Decimal("500.00")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("removed", "no longer open in Sage 100"),
        ("paid in part", "Sage 100's open balance is 250.00, but AvidXchange may pay 1250.00"),
    ],
)
def test_a_bill_paid_or_removed_outside_avidxchange_is_flagged_once(systems: Systems, change: str, reason: str) -> None:
    systems.agent.invoices = {"01-ACME/10045": invoice("10045")}
    push_invoices(systems.context())
    if change == "removed":
        del systems.agent.invoices["01-ACME/10045"]
    else:
        systems.agent.invoices["01-ACME/10045"] = invoice("10045", balance="250.00")
    flagged = push_invoices(systems.context())
    again = push_invoices(systems.context())

    assert flagged.counts.drifted == 1 and again.counts.drifted == 0
    (failure,) = systems.state.list_failures(CUSTOMER)
    assert reason in failure.error and not failure.retryable


def test_a_payment_posted_through_avidxchange_is_not_taken_for_drift(systems: Systems) -> None:
    systems.agent.invoices = {"01-ACME/10045": invoice("10045")}
    systems.now = T0 - dt.timedelta(days=2)  # pushed before AvidXchange paid it
    push_invoices(systems.context())
    systems.now = T0 + dt.timedelta(days=2)
    assert systems.state.get_outstanding(CUSTOMER, ["01-ACME/10045"]), "pushed: AvidXchange may pay it"
    systems.customer = make_customer(CUSTOMER, invoice_start_date="2026-11-15")  # payments polled from then
    systems.avid.windows = [
        PaymentWindow(modified_from=T0, modified_to=T0 + dt.timedelta(hours=1), items=[payment("P-1", "10045")])
    ]
    post_payments(systems.context())
    assert "01-ACME/10045" not in systems.agent.invoices, "paid off in Sage"
    result = push_invoices(systems.context())
    assert result.counts.drifted == 0 and systems.state.list_failures(CUSTOMER) == []
    assert systems.state.get_outstanding(CUSTOMER, ["01-ACME/10045"]) == {}


# 10. each code mirrors its own Sage status; the error names the code that is inactive ----------------------------


def test_an_active_account_on_an_inactive_cost_center_stays_active_and_the_invoice_names_the_cost_center() -> None:
    systems = Systems(customer=make_customer(CUSTOMER))
    systems.agent.vendors = {"01-ACME": vendor("ACME")}
    systems.agent.values = {"3-470": cost_center("470", status="I")}
    systems.agent.accounts = {"000000470": gl_account("000000470", "5020-470", cost_center="470")}
    sync_vendors(systems.context())
    sync_gl(systems.context())
    assert systems.avid.codes[("Accounting Codes", "5020-470")].is_active
    assert not systems.avid.codes[("Cost Center", "470")].is_active

    systems.agent.invoices = {"01-ACME/4701": invoice("4701", account_key="000000470")}
    push_invoices(systems.context())
    (failure,) = systems.state.list_failures(CUSTOMER)
    assert failure.blocked_by == "value:3:470"
    assert "Cost Center 470" in failure.error and "is inactive in Sage 100" in failure.error
    assert "GL account 5020-470 is not active" not in failure.error


def test_retryable_failures_are_queued_by_key_only(systems: Systems) -> None:
    systems.agent.invoices = {"01-ACME/10045": invoice("10045")}
    systems.avid.faults.fail_next("create_invoice", RetryLater("AvidXchange unavailable (503)"))
    push_invoices(systems.context())
    (queued,) = systems.retries.sent
    assert set(queued.model_dump()) == {"customer_id", "stage", "kind", "source_key", "reason", "first_failed_at"}


# 4. a run near its time budget stops between two records and its continuation picks up exactly there -------------


@pytest.mark.parametrize("in_flight", [1, 4], ids=["one-at-a-time", "four-in-flight"])
def test_an_invoices_run_out_of_time_mid_page_continues_with_exactly_the_records_left(
    systems: Systems, in_flight: int
) -> None:
    systems.customer = make_customer(CUSTOMER, avid={"base_url": "https://127.0.0.1:9444", "max_in_flight": in_flight})
    systems.agent.invoices = {f"01-ACME/{n}": invoice(str(n)) for n in range(8001, 8006)}

    checks = itertools.count(1)

    def two_checks_then_spent(point: str) -> bool:
        return point == "budget.check" and next(checks) > 2  # the budget is asked before each record starts

    fault_points.install(two_checks_then_spent)
    try:
        first = push_invoices(systems.context())
    finally:
        fault_points.install(None)
    assert not first.complete and first.counts.synced == 2, "the records started finish; no other starts"
    # Meanwhile one finished invoice changes in Sage: it carries a new stamp, so the continuation reads it again.
    systems.agent.invoices["01-ACME/8001"] = systems.agent.invoices["01-ACME/8001"].model_copy(
        update={"time_updated": dt.time(11, 0)}
    )
    second = push_invoices(systems.context())

    assert second.complete
    assert (second.counts.synced, second.counts.unchanged) == (3, 1), "8002 skipped as finished; 8001 read again"
    assert sorted(i.number for i in systems.avid.invoices) == [str(n) for n in range(8001, 8006)]


def test_a_retried_post_takes_a_payment_off_what_avidxchange_may_pay_once(systems: Systems) -> None:
    systems.agent.invoices = {"01-ACME/10045": invoice("10045")}
    systems.now = T0 - dt.timedelta(days=2)  # pushed before AvidXchange paid it
    push_invoices(systems.context())
    systems.now = T0 + dt.timedelta(days=2)
    systems.customer = make_customer(CUSTOMER, invoice_start_date="2026-11-15")  # payments polled from then
    systems.avid.windows = [
        PaymentWindow(
            modified_from=T0, modified_to=T0 + dt.timedelta(hours=1), items=[payment("P-2", "10045", amount="250.00")]
        )
    ]
    post_payments(systems.context())
    systems.state.mappings.pop((CUSTOMER, "payment", "P-2"))  # as if the mapping write was lost after the post
    systems.state.cursors.pop((CUSTOMER, "payments"))
    post_payments(systems.context())  # the check is in Sage: adopted, and not taken off the balance again

    assert len(systems.agent.checks) == 1
    owed = systems.state.get_outstanding(CUSTOMER, ["01-ACME/10045"])["01-ACME/10045"]
    assert (owed.balance, owed.paid_by) == (Decimal("1000.00"), ["P-2"])
    assert push_invoices(systems.context()).counts.drifted == 0, "Sage's balance and what AvidXchange may pay agree"


def test_two_payments_of_one_invoice_in_one_window_each_come_off_what_avidxchange_may_pay(systems: Systems) -> None:
    systems.agent.invoices = {"01-ACME/10045": invoice("10045")}
    systems.now = T0 - dt.timedelta(days=2)
    push_invoices(systems.context())
    systems.now = T0 + dt.timedelta(days=2)
    systems.customer = make_customer(CUSTOMER, invoice_start_date="2026-11-15")
    halves = [payment(f"P-{n}", "10045", amount="625.00") for n in (7, 8)]
    systems.avid.windows = [PaymentWindow(modified_from=T0, modified_to=T0 + dt.timedelta(hours=1), items=halves)]

    assert post_payments(systems.context()).counts.synced == 2

    owed = systems.state.get_outstanding(CUSTOMER, ["01-ACME/10045"])
    assert owed == {}, "paid in full by the two halves, posted one after the other"
    assert len(systems.agent.checks) == 2


# 15.5 the first payments run reads from the earliest push, not months of empty windows ----------------------------


@pytest.mark.parametrize(
    ("pushed_days_before_now", "reads_from"),
    [
        (None, dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),  # nothing pushed: from the invoice start date
        (3, dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)),  # from the earliest push, less the overlap
        (60, dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),  # pushed before the start date: from the start date
    ],
    ids=["nothing-pushed", "pushed-after-start-date", "pushed-before-start-date"],
)
def test_the_first_payments_pass_starts_at_the_earliest_push_when_that_is_later(
    systems: Systems, pushed_days_before_now: int | None, reads_from: dt.datetime
) -> None:
    systems.customer = make_customer(CUSTOMER, invoice_start_date="2026-11-01", overlap_minutes=0)
    if pushed_days_before_now is not None:
        systems.agent.invoices = {"01-ACME/10045": invoice("10045")}
        later = systems.now
        systems.now = later - dt.timedelta(days=pushed_days_before_now)
        push_invoices(systems.context())
        systems.now = later
    asked: list[tuple[dt.datetime, dt.datetime]] = []
    windows = systems.avid.payment_windows

    def recorded(*, modified_from: dt.datetime, modified_to: dt.datetime) -> Iterator[PaymentWindow]:
        asked.append((modified_from, modified_to))
        return windows(modified_from=modified_from, modified_to=modified_to)

    systems.avid.payment_windows = recorded  # type: ignore[method-assign]
    assert post_payments(systems.context()).complete
    assert asked == [(reads_from, systems.now)]
