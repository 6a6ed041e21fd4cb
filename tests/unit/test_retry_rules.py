"""The retry rules, as tables of cases on in-memory fakes: how far a failed record's next delivery is pushed out,
parking a paused customer's records, and what one retry of each kind of record ends in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from ml_connector.errors import AvidRejected, RetryLater, SageValidationFailed
from ml_connector.kinds import RecordKind, Stage
from ml_connector.messages import RecordRetry
from ml_connector.stages.parking import park, requeue_parked
from ml_connector.stages.retry import MAX_DELAY_SECONDS, RecordStillFailing, next_delivery_delay, retry_record
from ml_connector.state.models import AuditEvent, FailedRecord, MappingState
from tests.fakes import FakeRetryQueue, FakeStateStore, Systems
from tests.unit.builders import avid_payment, gl_account, open_invoice, ready_company, sage_vendor, segment_value

CUSTOMER = "acme-build"
T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


# -- the back-off ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("receive_count", "seconds"),
    [
        (0, 120),  # never below the first delay
        (1, 120),
        (2, 360),
        (3, 1080),
        (4, 3240),
        (5, 9720),
        (6, 29160),
        (7, MAX_DELAY_SECONDS),  # 87480 s: capped at SQS's 12 hours
        (50, MAX_DELAY_SECONDS),
    ],
)
def test_each_failed_delivery_waits_three_times_longer_up_to_twelve_hours(receive_count: int, seconds: int) -> None:
    assert MAX_DELAY_SECONDS == 43_200
    assert next_delivery_delay(receive_count) == seconds


# -- parking ---------------------------------------------------------------------------------------------------------


def a_retry(kind: RecordKind, key: str, stage: Stage, *, customer_id: str = CUSTOMER) -> RecordRetry:
    return RecordRetry(
        customer_id=customer_id, stage=stage, kind=kind, source_key=key, reason="agent busy (503)", first_failed_at=T0
    )


def test_a_parked_record_is_an_open_retryable_failure_that_says_why() -> None:
    state = FakeStateStore()
    park(state, a_retry(RecordKind.INVOICE, "01-ACME/1", Stage.INVOICES))

    (failure,) = state.list_failures(CUSTOMER)
    assert (failure.kind, failure.source_key, failure.stage) == ("invoice", "01-ACME/1", Stage.INVOICES)
    assert failure.parked and failure.retryable
    assert failure.error == "parked while the customer is paused: agent busy (503)"


def test_only_the_customers_parked_records_go_back_on_the_queue_and_they_are_parked_no_more() -> None:
    state, queue = FakeStateStore(), FakeRetryQueue()
    park(state, a_retry(RecordKind.INVOICE, "01-ACME/1", Stage.INVOICES))
    park(state, a_retry(RecordKind.PAYMENT, "P-1", Stage.PAYMENTS))
    park(state, a_retry(RecordKind.VENDOR, "01-ACME", Stage.VENDORS, customer_id="other-co"))
    state.record_failure(
        FailedRecord(
            customer_id=CUSTOMER, kind="vendor", source_key="01-BOLT", stage=Stage.VENDORS, error="refused",
            retryable=False, attempts=1, first_failed_at=T0, last_failed_at=T0,
        )
    )  # fmt: skip
    later = T0 + dt.timedelta(days=2)

    assert requeue_parked(state, queue, CUSTOMER, later) == 2

    assert {(r.kind, r.source_key, r.stage, r.first_failed_at) for r in queue.sent} == {
        ("invoice", "01-ACME/1", Stage.INVOICES, later),
        ("payment", "P-1", Stage.PAYMENTS, later),
    }
    assert [f.source_key for f in state.list_failures(CUSTOMER) if f.parked] == []
    assert len(state.list_failures(CUSTOMER)) == 3, "requeued records stay open failures until a retry ends them"
    assert [f.parked for f in state.list_failures("other-co")] == [True]
    assert requeue_parked(state, queue, CUSTOMER, later) == 0


# -- one retry of each kind of record --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of record: where a retry reads it (``put`` it there as it is now), the call that sends it (``arm``
    makes that call fail next), whether it ``arrived`` in the other system, and the refusal that system answers."""

    kind: RecordKind
    stage: Stage
    key: str
    put: Callable[[Systems], None]
    arm: Callable[[Systems, Exception], None]
    arrived: Callable[[Systems], bool]
    refusal: Exception


def _put_payment(systems: Systems) -> None:
    systems.agent.invoices["01-ACME/9100"] = open_invoice("9100")
    systems.avid.payments["P-9100"] = avid_payment("P-9100", "9100")


KINDS = [
    Kind(
        RecordKind.VENDOR,
        Stage.VENDORS,
        "01-BOLT",
        put=lambda s: s.agent.vendors.update({"01-BOLT": sage_vendor("BOLT")}),
        arm=lambda s, e: s.avid.faults.fail_next("upsert_vendors", e),
        arrived=lambda s: "01-BOLT" in s.avid.vendors,
        refusal=AvidRejected("TaxID is not valid"),
    ),
    Kind(
        RecordKind.GL_ACCOUNT,
        Stage.GL,
        "000000124",
        put=lambda s: s.agent.accounts.update({"000000124": gl_account("000000124", "6200-300")}),
        arm=lambda s, e: s.avid.faults.fail_next("upsert_enterprise_codes", e),
        arrived=lambda s: ("Accounting Codes", "6200-300") in s.avid.codes,
        refusal=AvidRejected("code too long"),
    ),
    Kind(
        RecordKind.SEGMENT_VALUE,
        Stage.GL,
        "3-310",
        put=lambda s: s.agent.values.update({"3-310": segment_value("310")}),
        arm=lambda s, e: s.avid.faults.fail_next("upsert_enterprise_codes", e),
        arrived=lambda s: ("Cost Center", "310") in s.avid.codes,
        refusal=AvidRejected("code too long"),
    ),
    Kind(
        RecordKind.INVOICE,
        Stage.INVOICES,
        "01-ACME/10045",
        put=lambda s: s.agent.invoices.update({"01-ACME/10045": open_invoice("10045")}),
        arm=lambda s, e: s.avid.faults.fail_next("create_invoice", e),
        arrived=lambda s: len(s.avid.named("10045")) == 1,
        refusal=AvidRejected("duplicate invoice number"),
    ),
    Kind(
        RecordKind.PAYMENT,
        Stage.PAYMENTS,
        "P-9100",
        put=_put_payment,
        arm=lambda s, e: s.agent.faults.fail_next("post_manual_check", e),
        arrived=lambda s: "A/AX9100" in s.agent.checks,
        refusal=SageValidationFailed("date outside the AP period", fields=[]),
    ),
]
BY_KIND = pytest.mark.parametrize("case", KINDS, ids=[k.kind.value for k in KINDS])


@pytest.fixture
def systems() -> Systems:
    """Vendor 01-ACME and cost center 300 with account 6100-300 synced."""
    return ready_company()


def failed_once(systems: Systems, case: Kind) -> RecordRetry:
    retry = a_retry(case.kind, case.key, case.stage)
    systems.state.record_failure(
        FailedRecord(
            customer_id=CUSTOMER, kind=case.kind, source_key=case.key, stage=case.stage, error=retry.reason,
            retryable=True, attempts=1, first_failed_at=T0, last_failed_at=T0,
        )
    )  # fmt: skip
    return retry


def open_failure(systems: Systems, case: Kind) -> FailedRecord | None:
    return next((f for f in systems.state.list_failures(CUSTOMER) if f.source_key == case.key), None)


@BY_KIND
def test_a_retry_reads_the_record_by_key_and_sends_it(systems: Systems, case: Kind) -> None:
    retry = failed_once(systems, case)
    case.put(systems)

    retry_record(systems.context(), retry, receive_count=2)

    assert case.arrived(systems)
    mapping = systems.state.get_mapping(CUSTOMER, case.kind, case.key)
    assert mapping is not None and mapping.state is MappingState.SYNCED
    assert open_failure(systems, case) is None
    retried = [
        e.detail for e in systems.state.list_audit(CUSTOMER, case.kind, case.key) if e.event is AuditEvent.RETRIED
    ]
    assert retried == ["retry attempt 2: agent busy (503)"]


@BY_KIND
def test_a_retry_of_a_record_gone_from_its_source_is_skipped(systems: Systems, case: Kind) -> None:
    retry = failed_once(systems, case)

    retry_record(systems.context(), retry, receive_count=2)

    assert not case.arrived(systems)
    assert [(r.source_key, r.stage) for r in systems.state.list_skipped(CUSTOMER, case.kind)] == [
        (case.key, case.stage)
    ]
    assert open_failure(systems, case) is None


@BY_KIND
def test_a_retry_that_fails_for_a_passing_reason_again_raises_and_queues_nothing(systems: Systems, case: Kind) -> None:
    retry = failed_once(systems, case)
    case.put(systems)
    case.arm(systems, RetryLater("busy (503)"))

    with pytest.raises(RecordStillFailing, match=r"busy \(503\)"):
        retry_record(systems.context(), retry, receive_count=2)

    failure = open_failure(systems, case)
    assert failure is not None and failure.retryable and failure.attempts == 2
    assert systems.retries.sent == [], "the retry message itself stays on its queue"


@BY_KIND
def test_a_retry_that_is_refused_ends_as_a_listed_failure(systems: Systems, case: Kind) -> None:
    retry = failed_once(systems, case)
    case.put(systems)
    case.arm(systems, case.refusal)

    retry_record(systems.context(), retry, receive_count=2)  # no RecordStillFailing: the message is done

    failure = open_failure(systems, case)
    assert failure is not None and not failure.retryable and str(case.refusal) in failure.error
    assert not case.arrived(systems) and systems.retries.sent == []


def test_a_retry_sends_the_vendor_as_it_is_in_sage_now(systems: Systems) -> None:
    retry = a_retry(RecordKind.VENDOR, "01-BOLT", Stage.VENDORS)
    systems.agent.vendors["01-BOLT"] = sage_vendor("BOLT", name="Bolt Fasteners Ltd")

    retry_record(systems.context(), retry, receive_count=1)

    assert systems.avid.vendors["01-BOLT"].name == "Bolt Fasteners Ltd"


@pytest.mark.parametrize(
    "case", [k for k in KINDS if k.kind in (RecordKind.INVOICE, RecordKind.PAYMENT)], ids=lambda k: k.kind.value
)
def test_a_second_retry_of_a_record_already_sent_sends_nothing_again(systems: Systems, case: Kind) -> None:
    retry = failed_once(systems, case)
    case.put(systems)

    retry_record(systems.context(), retry, receive_count=2)
    retry_record(systems.context(), retry, receive_count=3)

    assert case.arrived(systems)  # exactly one invoice in AvidXchange, one check in Sage
    assert len(systems.avid.invoices) + len(systems.agent.checks) == 1
