"""The payments stage on fakes: settled AvidXchange payments posted once to Sage 100 as AP manual checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ml_connector.domain.avid import AvidPayment
from ml_connector.domain.payment_mapping import to_manual_check
from ml_connector.domain.sage import PaymentMethod, RecordedManualCheck
from ml_connector.errors import RetryLater
from ml_connector.kinds import RecordKind, Stage
from ml_connector.stages.invoices import push_invoices
from ml_connector.stages.payments import post_payments
from ml_connector.stages.retry import retry_record
from ml_connector.state.models import AuditEvent, MappingState
from tests.unit.builders import (
    ACH_TRACE,
    CARD_LAST4,
    CUSTOMER,
    T0,
    Company,
    avid_payment,
    open_invoice,
    payment_window,
    ready_company,
    remittance,
    retry_of,
    time_while,
)

START = dt.datetime(2026, 11, 15, tzinfo=dt.UTC)
CHECK = "A/AX9001"


@pytest.fixture
def paying() -> Company:
    """Invoice 9001 (1250.00) of ACME open in Sage; payments polled from 2026-11-15."""
    made = ready_company(invoice_start_date="2026-11-15")
    made.agent.invoices = {"01-ACME/9001": open_invoice("9001")}
    return made


def pays(systems: Company, *payments: AvidPayment) -> None:
    systems.avid.windows = [payment_window(*payments)]


def posted(systems: Company) -> list[str]:
    return sorted(systems.agent.checks)


def events(systems: Company, payment_id: str) -> list[AuditEvent]:
    return [e.event for e in systems.state.list_audit(CUSTOMER, RecordKind.PAYMENT, payment_id)]


@pytest.mark.parametrize(
    ("method", "sage_method", "reference", "comment"),
    [
        pytest.param("Check", PaymentMethod.CHECK, "", "AvidPay 9001 chk 104522", id="check-number"),
        pytest.param("ACH", PaymentMethod.ACH, ACH_TRACE, "AvidPay 9001", id="ach-trace"),
        pytest.param("VirtualCard", PaymentMethod.VIRTUAL_CARD, CARD_LAST4, "AvidPay 9001", id="card-last-four"),
    ],
)
def test_a_settled_payment_is_posted_once_as_a_manual_check_against_the_invoice_it_paid(
    paying: Company, method: str, sage_method: PaymentMethod, reference: str, comment: str
) -> None:
    pays(paying, avid_payment("P-9001", "9001", method=method))

    first = post_payments(paying.context())
    paying.state.cursors.clear()  # the overlap reads the payment again
    second = post_payments(paying.context())

    check = paying.agent.checks[CHECK]
    assert (check.ap_division_no, check.vendor_no, check.check_date) == ("01", "ACME", dt.date(2026, 11, 20))
    assert (check.payment_method, check.reference, check.comment) == (sage_method, reference, comment)
    assert [(line.invoice_no, line.amount_paid) for line in check.lines] == [("9001", Decimal("1250.00"))]
    assert "01-ACME/9001" not in paying.agent.invoices, "paid off in Sage"
    assert (first.counts.synced, second.counts.synced, second.counts.unchanged) == (1, 0, 1)
    mapping = paying.state.get_mapping(CUSTOMER, RecordKind.PAYMENT, "P-9001")
    assert mapping is not None and (mapping.state, mapping.remote_id) == (MappingState.SYNCED, CHECK)
    assert events(paying, "P-9001") == [AuditEvent.READ, AuditEvent.TRANSFORMED, AuditEvent.POSTED]


def test_a_payment_applies_to_its_own_vendors_invoice_of_that_number(paying: Company) -> None:
    paying.agent.invoices["01-OTHER/9001"] = open_invoice("9001", vendor_no="OTHER")
    pays(paying, avid_payment("P-9001", "9001"))

    post_payments(paying.context())

    assert posted(paying) == [CHECK] and paying.agent.checks[CHECK].vendor_no == "ACME"
    assert "01-ACME/9001" not in paying.agent.invoices and "01-OTHER/9001" in paying.agent.invoices


@pytest.mark.parametrize(
    ("payment", "reason"),
    [
        pytest.param(
            avid_payment("P-9001", "9999"),
            "invoice 9999 of vendor 01-ACME is not open in Sage 100 (paid or removed); record this payment there",
            id="invoice-not-open",
        ),
        pytest.param(
            avid_payment("P-9001", "9001", vendor="01-OTHER"),
            "invoice 9001 of vendor 01-OTHER is not open in Sage 100",
            id="another-vendors-number",
        ),
        pytest.param(
            avid_payment("P-9001", "9001", amount="1300.00"),
            "pays 1300.00 on invoice 9001, whose open balance in Sage 100 is 1250.00",
            id="more-than-the-balance",
        ),
        pytest.param(
            avid_payment("P-9001", "9001", vendor="ACME"),
            "payee 'ACME' is not a vendor the connector created",
            id="payee-not-ours",
        ),
        pytest.param(avid_payment("P-9001"), "has no remittances; nothing to apply", id="no-remittances"),
    ],
)
def test_a_payment_that_cannot_be_applied_fails_alone_once_and_the_rest_post(
    paying: Company, payment: AvidPayment, reason: str
) -> None:
    paying.agent.invoices["01-ACME/9002"] = open_invoice("9002")
    pays(paying, payment, avid_payment("P-9002", "9002"))

    result = post_payments(paying.context())

    assert result.complete and posted(paying) == ["A/AX9002"]
    failure = paying.failure("P-9001")
    assert reason in failure.error and not failure.retryable and paying.retries.sent == []
    assert events(paying, "P-9001")[-1] is AuditEvent.FAILED


@pytest.mark.parametrize(
    ("settle_on", "status", "skip_reason"),
    [
        pytest.param("Sent", "Submitted", "payment 9001 is Submitted; posted once Sent", id="sent:submitted"),
        pytest.param("Sent", "Processing", "payment 9001 is Processing; posted once Sent", id="sent:processing"),
        pytest.param("Sent", "Sent", None, id="sent:sent"),
        pytest.param("Sent", "Cleared", None, id="sent:cleared"),
        pytest.param("Cleared", "Sent", "payment 9001 is Sent; posted once Cleared", id="cleared:sent"),
        pytest.param("Cleared", "Cleared", None, id="cleared:cleared"),
    ],
)
def test_a_payment_is_posted_once_settled_as_the_customer_chose(
    paying: Company, settle_on: str, status: str, skip_reason: str | None
) -> None:
    paying.settings(invoice_start_date="2026-11-15", settle_on=settle_on)
    pays(paying, avid_payment("P-9001", "9001", status=status))

    result = post_payments(paying.context())

    assert posted(paying) == ([] if skip_reason else [CHECK])
    assert result.counts.skipped == (1 if skip_reason else 0)
    skipped = paying.state.list_skipped(CUSTOMER, RecordKind.PAYMENT)
    assert [s.reason for s in skipped] == ([skip_reason] if skip_reason else [])
    assert paying.state.list_failures(CUSTOMER) == []


def test_a_payment_skipped_while_processing_is_posted_once_it_is_sent(paying: Company) -> None:
    pays(paying, avid_payment("P-9001", "9001", status="Processing"))
    post_payments(paying.context())
    sent_at = paying.now + dt.timedelta(minutes=10)
    paying.now += dt.timedelta(hours=1)
    paying.avid.windows = [payment_window(avid_payment("P-9001", "9001", modified=sent_at), start=sent_at, hours=0)]

    result = post_payments(paying.context())

    assert posted(paying) == [CHECK] and result.counts.synced == 1


def test_a_payment_voided_before_it_was_posted_is_skipped(paying: Company) -> None:
    pays(paying, avid_payment("P-9001", "9001", status="Void"))

    result = post_payments(paying.context())

    assert posted(paying) == [] and result.counts.skipped == 1 and paying.state.list_failures(CUSTOMER) == []
    (skipped,) = paying.state.list_skipped(CUSTOMER, RecordKind.PAYMENT)
    assert skipped.reason == "payment 9001 was voided in AvidXchange before it was posted"


def test_a_payment_voided_after_it_was_posted_is_flagged_once_and_never_reversed(paying: Company) -> None:
    pays(paying, avid_payment("P-9001", "9001"))
    post_payments(paying.context())
    pays(paying, avid_payment("P-9001", "9001", status="Void"))
    paying.state.cursors.clear()

    flagged = post_payments(paying.context())
    paying.state.cursors.clear()
    again = post_payments(paying.context())

    assert posted(paying) == [CHECK], "the connector never reverses a posting"
    assert (flagged.counts.failed, again.counts.failed) == (1, 0)
    failure = paying.failure("P-9001")
    assert failure.flagged and not failure.retryable and failure.attempts == 1
    assert (
        "payment 9001 was voided in AvidXchange after it was posted to Sage 100 as manual check A/AX9001;"
        " void that check in Sage 100" in failure.error
    )
    assert events(paying, "P-9001").count(AuditEvent.FAILED) == 1 and paying.retries.sent == []


def record_check(systems: Company, payment: AvidPayment) -> None:
    """A manual check for ``payment`` as Sage holds it (posted by an earlier or a concurrent attempt)."""
    open_invoices = {"9001": open_invoice("9001")}
    check = to_manual_check(payment, bank_code="A", open_invoices=open_invoices)
    systems.agent.checks[check.key] = RecordedManualCheck.model_validate({**check.model_dump(), "posted": True})


@pytest.mark.parametrize(
    ("in_sage", "found_by_lookup", "outcome"),
    [
        pytest.param(avid_payment("P-9001", "9001"), False, "adopted", id="409-same-payment"),
        pytest.param(avid_payment("P-9001", "9001", vendor="01-OTHER"), True, "refused", id="lookup-clash"),
        pytest.param(avid_payment("P-9001", "9001", vendor="01-OTHER"), False, "refused", id="409-clash"),
    ],
)
def test_a_check_number_already_in_sage_is_adopted_when_it_is_this_payment_and_refused_when_not(
    paying: Company, monkeypatch: pytest.MonkeyPatch, in_sage: AvidPayment, found_by_lookup: bool, outcome: str
) -> None:
    record_check(paying, in_sage)
    if not found_by_lookup:  # a concurrent attempt posts it between this one's lookup and its post: Sage answers 409
        monkeypatch.setattr(paying.agent, "manual_check", lambda bank_code, check_no: None)
    pays(paying, avid_payment("P-9001", "9001"))

    result = post_payments(paying.context())

    assert len(paying.agent.checks) == 1, "never posted twice"
    last = paying.state.list_audit(CUSTOMER, RecordKind.PAYMENT, "P-9001")[-1]
    if outcome == "adopted":
        assert result.counts.synced == 1 and paying.state.list_failures(CUSTOMER) == []
        assert last.detail == f"already in Sage 100 as manual check {CHECK}; adopted"
    else:
        failure = paying.failure("P-9001")
        assert not failure.retryable and result.counts.failed == 1
        assert f"check {CHECK} already exists in Sage 100 for other invoices or another vendor (01-OTHER)" in (
            failure.error
        )
        assert paying.state.get_mapping(CUSTOMER, RecordKind.PAYMENT, "P-9001") is None


def test_a_passing_failure_is_queued_and_its_retry_posts_the_payment_once(paying: Company) -> None:
    pays(paying, avid_payment("P-9001", "9001"))
    paying.avid.payments["P-9001"] = avid_payment("P-9001", "9001")
    paying.agent.faults.fail_next("post_manual_check", RetryLater("Sage 100 is locked by another user (423)"))

    result = post_payments(paying.context())
    assert result.counts.failed == 1 and posted(paying) == []
    assert [r.source_key for r in paying.retries.sent] == ["P-9001"] and paying.failure("P-9001").retryable

    retry_record(paying.context(), retry_of(RecordKind.PAYMENT, "P-9001", Stage.PAYMENTS), receive_count=1)

    assert posted(paying) == [CHECK] and paying.state.list_failures(CUSTOMER) == []


@pytest.mark.parametrize(
    ("in_avid", "reason"),
    [
        pytest.param(None, "the payment no longer exists in AvidXchange", id="gone"),
        pytest.param(
            avid_payment("P-9001", "9001", status="Void"),
            "payment 9001 was voided in AvidXchange before it was posted",
            id="voided-since",
        ),
    ],
)
def test_a_retry_reads_the_payment_again_and_skips_one_that_is_gone_or_voided(
    paying: Company, in_avid: AvidPayment | None, reason: str
) -> None:
    if in_avid is not None:
        paying.avid.payments["P-9001"] = in_avid

    retry_record(paying.context(), retry_of(RecordKind.PAYMENT, "P-9001", Stage.PAYMENTS), receive_count=1)

    assert posted(paying) == []
    (skipped,) = paying.state.list_skipped(CUSTOMER, RecordKind.PAYMENT)
    assert skipped.reason == reason


def test_the_first_pass_starts_at_the_invoice_start_date_and_the_next_at_the_watermark_less_the_overlap(
    paying: Company,
) -> None:
    paying.settings(invoice_start_date="2026-11-15", overlap_minutes=20)
    first_now = paying.now
    post_payments(paying.context())
    cursor = paying.state.get_cursor(CUSTOMER, "payments")
    assert cursor.watermark == first_now and not cursor.in_pass

    paying.now = first_now + dt.timedelta(hours=1)
    post_payments(paying.context())

    assert paying.avid.window_polls == [
        (START, first_now),
        (first_now - dt.timedelta(minutes=20), first_now + dt.timedelta(hours=1)),
    ]


def test_a_run_out_of_time_resumes_at_the_first_window_it_did_not_finish(paying: Company) -> None:
    numbers = [str(9001 + n) for n in range(4)]
    paying.agent.invoices = {f"01-ACME/{n}": open_invoice(n) for n in numbers}
    early, late = T0 - dt.timedelta(days=2), T0
    paying.avid.windows = [
        payment_window(*(avid_payment(f"P-{n}", n, modified=early) for n in numbers[:2]), start=early, hours=24),
        payment_window(*(avid_payment(f"P-{n}", n, modified=late) for n in numbers[2:]), start=late, hours=24),
    ]

    first = post_payments(paying.context(budget=time_while(lambda: len(paying.agent.checks) < 3)))
    second = post_payments(paying.context())

    assert not first.complete and second.complete
    assert posted(paying) == [f"A/AX{n}" for n in numbers], "each posted exactly once"
    assert paying.avid.window_polls[1][0] == early + dt.timedelta(hours=24), "from the end of the finished window"
    assert (second.counts.synced, second.counts.unchanged) == (1, 1)


def test_a_payment_lowers_what_avidxchange_may_still_pay_on_each_invoice_it_paid(paying: Company) -> None:
    paying.agent.invoices = {
        "01-ACME/9001": open_invoice("9001", invoice_date="20261116"),
        "01-ACME/9002": open_invoice("9002", amount="500.00", invoice_date="20261116"),
    }
    push_invoices(paying.context())
    assert len(list(paying.state.list_outstanding(CUSTOMER))) == 2
    paid_at, paying.now = paying.now + dt.timedelta(minutes=5), paying.now + dt.timedelta(hours=1)
    full_and_part = [remittance("9001", "1250.00"), remittance("9002", "200.00")]
    payment = avid_payment("P-9001", amount="1450.00", remittances=full_and_part, modified=paid_at)
    paying.avid.windows = [payment_window(payment, start=paid_at, hours=0)]

    post_payments(paying.context())

    owed = paying.state.get_outstanding(CUSTOMER, ["01-ACME/9001", "01-ACME/9002"])
    assert {k: (o.balance, o.paid_by) for k, o in owed.items()} == {"01-ACME/9002": (Decimal("300.00"), ["P-9001"])}
    assert paying.agent.invoices["01-ACME/9002"].balance == Decimal("300.00")
    assert push_invoices(paying.context()).counts.drifted == 0, "Sage and AvidXchange agree on what is owed"
