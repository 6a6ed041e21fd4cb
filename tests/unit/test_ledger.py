"""The record ledger on fakes: every record's final state counted, audited, listed, and queued only when a retry
can help."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ml_connector.domain.sage import InvalidRecord
from ml_connector.kinds import RecordKind, Stage
from ml_connector.messages import RecordRetry
from ml_connector.stages.ledger import RecordLedger
from ml_connector.stages.result import StageResult
from ml_connector.state.models import AuditEvent, FailedRecord, KeyMapping, MappingState, RunCounts
from tests.unit.builders import CUSTOMER, Company, company

KIND = RecordKind.INVOICE
KEY = "01-ACME/1001"
Outcome = Callable[[RecordLedger], None]


def mapping(key: str = KEY) -> KeyMapping:
    return KeyMapping(customer_id=CUSTOMER, kind=KIND, source_key=key, state=MappingState.SYNCED, remote_id="I-1")


def ledger_of(systems: Company, *, requeue: bool = True) -> RecordLedger:
    return RecordLedger(systems.context(), Stage.INVOICES, requeue=requeue)


OUTCOMES = [
    pytest.param(lambda ledger: ledger.read(KIND, KEY, "read"), {"read": 1}, id="read"),
    pytest.param(lambda ledger: ledger.synced(KIND, KEY, mapping=mapping()), {"synced": 1}, id="synced"),
    pytest.param(lambda ledger: ledger.unchanged(KIND, KEY), {"unchanged": 1}, id="unchanged"),
    pytest.param(lambda ledger: ledger.skipped(KIND, KEY, "why"), {"skipped": 1}, id="skipped"),
    pytest.param(
        lambda ledger: ledger.waiting(KIND, KEY, "why", blocked_by="vendor:01-ACME"), {"waiting": 1}, id="waiting"
    ),
    pytest.param(lambda ledger: ledger.failed(KIND, KEY, "503", retryable=True), {"failed": 1}, id="failed"),
    pytest.param(lambda ledger: ledger.flagged(KIND, KEY, "voided"), {"failed": 1}, id="flagged"),
    pytest.param(lambda ledger: ledger.drifted(KIND, KEY, "paid outside"), {"drifted": 1, "failed": 1}, id="drifted"),
    pytest.param(lambda ledger: ledger.note(KIND, KEY, "a note"), {}, id="note"),
]


@pytest.mark.parametrize(("outcome", "counted"), OUTCOMES)
def test_each_outcome_counts_where_it_belongs(outcome: Outcome, counted: dict[str, int]) -> None:
    ledger = ledger_of(company())
    outcome(ledger)
    assert ledger.counts == RunCounts(**counted)


def test_history_and_retries_are_buffered_until_the_page_is_flushed() -> None:
    systems = company()
    ledger = ledger_of(systems)
    ledger.read(KIND, KEY, "read")
    ledger.skipped(KIND, "01-ACME/1002", "dated before the start date")
    ledger.failed(KIND, "01-ACME/1003", "503", retryable=True)

    assert (systems.state.audit, systems.state.skipped, systems.retries.sent) == ([], {}, [])
    assert [f.source_key for f in systems.state.list_failures(CUSTOMER)] == ["01-ACME/1003"], "listed at once"

    ledger.flush()

    assert [(e.source_key, e.event) for e in systems.state.audit] == [
        (KEY, AuditEvent.READ),
        ("01-ACME/1002", AuditEvent.SKIPPED),
        ("01-ACME/1003", AuditEvent.FAILED),
    ]
    assert [r.source_key for r in systems.state.list_skipped(CUSTOMER, KIND)] == ["01-ACME/1002"]
    assert [r.source_key for r in systems.retries.sent] == ["01-ACME/1003"]
    ledger.flush()
    assert len(systems.state.audit) == 3 and len(systems.retries.sent) == 1, "a flush writes each thing once"


def test_an_effect_is_written_at_once_with_its_own_records_history_only() -> None:
    systems = company()
    ledger = ledger_of(systems)
    ledger.read(KIND, KEY, "read")
    ledger.read(KIND, "01-ACME/1002", "read")
    ledger.note(KIND, KEY, "transformed", event=AuditEvent.TRANSFORMED)

    ledger.synced(KIND, KEY, mapping=mapping(), detail="created")

    assert [(e.event, e.detail, e.remote_id) for e in systems.state.audit] == [
        (AuditEvent.READ, "read", None),
        (AuditEvent.TRANSFORMED, "transformed", None),
        (AuditEvent.PUSHED, "created", "I-1"),
    ]
    assert systems.state.get_mapping(CUSTOMER, KIND, KEY) == mapping()
    ledger.flush()
    assert [e.source_key for e in systems.state.audit[3:]] == ["01-ACME/1002"]


def test_a_waiting_record_is_listed_with_its_blocker_and_never_queued() -> None:
    systems = company()
    ledger = ledger_of(systems)
    ledger.waiting(KIND, KEY, "vendor 01-ACME is on payment hold", blocked_by="vendor:01-ACME")
    ledger.failed(KIND, "01-ACME/1002", "503", retryable=True)
    ledger.waiting(RecordKind.PAYMENT, "P-1", "for a reason", blocked_by="x")
    ledger.flush()

    failure = systems.failure(KEY)
    assert (failure.error, failure.blocked_by, failure.waiting) == (
        "waiting: vendor 01-ACME is on payment hold",
        "vendor:01-ACME",
        True,
    )
    assert [r.source_key for r in systems.retries.sent] == ["01-ACME/1002"]
    assert [f.source_key for f in ledger_of(systems).waiting_records(KIND)] == [KEY]


def test_open_failures_are_listed_once_per_run_whether_released_or_resolved_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    systems = company()
    ledger_of(systems).waiting(KIND, KEY, "vendor", blocked_by="vendor:01-ACME")
    ledger_of(systems).flagged(KIND, "01-ACME/1002", "voided after posting")
    listings: list[str | None] = []
    listed = systems.state.list_failures

    def listing(customer_id: str | None = None) -> list[FailedRecord]:
        listings.append(customer_id)
        return listed(customer_id)

    monkeypatch.setattr(systems.state, "list_failures", listing)
    ledger = ledger_of(systems)

    assert [f.source_key for f in ledger.waiting_records(KIND)] == [KEY]
    ledger.unchanged(KIND, "01-ACME/1002")
    ledger.synced(KIND, KEY, mapping=mapping())
    ledger.unchanged(KIND, "01-ACME/1003")

    assert listings == [CUSTOMER]
    assert systems.failed_keys() == ["01-ACME/1002"], "the flag stays, the released record is closed"


@pytest.mark.parametrize(
    ("retryable", "retry_run", "requeue", "queued"),
    [
        pytest.param(True, False, True, True, id="passing-failure-queued"),
        pytest.param(False, False, True, False, id="refusal-listed-only"),
        pytest.param(True, False, False, False, id="unhelped-by-a-retry"),
        pytest.param(True, True, True, False, id="in-a-retry-run-the-message-stays"),
    ],
)
def test_only_a_passing_failure_outside_a_retry_run_is_queued(
    retryable: bool, retry_run: bool, requeue: bool, queued: bool
) -> None:
    systems = company()
    ledger = ledger_of(systems, requeue=not retry_run)

    ledger.failed(KIND, KEY, "AvidXchange unavailable (503)", retryable=retryable, requeue=requeue)
    ledger.flush()

    failure = systems.failure(KEY)
    assert (failure.retryable, failure.attempts, failure.flagged) == (retryable, 1, False)
    assert systems.retries.sent == (
        [RecordRetry(customer_id=CUSTOMER, stage=Stage.INVOICES, kind=KIND, source_key=KEY,
                     reason="AvidXchange unavailable (503)", first_failed_at=systems.now)]
        if queued else []
    )  # fmt: skip
    assert ledger.retryable_failures == int(retryable)


def test_a_record_failing_again_is_one_open_failure_with_its_attempts_counted() -> None:
    systems = company()
    for _ in range(3):
        ledger_of(systems).failed(KIND, KEY, "503", retryable=True)
    assert systems.failure(KEY).attempts == 3


@pytest.mark.parametrize("flag", ["flagged", "drifted"])
def test_a_flag_is_listed_for_a_person_and_never_queued(flag: str) -> None:
    systems = company()
    ledger = ledger_of(systems)
    getattr(ledger, flag)(KIND, KEY, "changed in Sage 100 after it was pushed")
    ledger.flush()

    failure = systems.failure(KEY)
    assert (failure.flagged, failure.retryable) == (True, False) and systems.retries.sent == []
    assert [e.event for e in systems.state.audit] == [AuditEvent.FAILED]


RESOLVING = [
    pytest.param(lambda ledger: ledger.synced(KIND, KEY, mapping=mapping()), id="synced"),
    pytest.param(lambda ledger: ledger.unchanged(KIND, KEY), id="unchanged"),
    pytest.param(lambda ledger: ledger.skipped(KIND, KEY, "no longer open"), id="skipped"),
]


@pytest.mark.parametrize("outcome", RESOLVING)
def test_a_record_that_reaches_a_good_final_state_closes_its_open_failure(outcome: Outcome) -> None:
    systems = company()
    ledger_of(systems).failed(KIND, KEY, "503", retryable=True)
    ledger_of(systems).waiting(KIND, "01-ACME/1002", "vendor", blocked_by="vendor:01-ACME")

    outcome(ledger_of(systems))

    assert systems.failed_keys() == ["01-ACME/1002"]


@pytest.mark.parametrize(
    ("retry_run", "still_flagged"),
    [pytest.param(False, True, id="a-run-keeps-it"), pytest.param(True, False, id="an-operators-replay-clears-it")],
)
def test_a_flag_stays_until_an_operator_replays_the_record(retry_run: bool, still_flagged: bool) -> None:
    systems = company()
    ledger_of(systems).flagged(KIND, KEY, "voided after posting")

    ledger_of(systems, requeue=not retry_run).unchanged(KIND, KEY)

    assert systems.failed_keys() == ([KEY] if still_flagged else [])


def test_an_unreadable_record_fails_once_for_an_operator_naming_what_breaks_the_contract() -> None:
    systems = company()
    ledger = ledger_of(systems)
    ledger.unreadable(KIND, [InvalidRecord(key=KEY, errors=["InvoiceNo: too long", "Balance: not a number"])])
    ledger.flush()

    failure = systems.failure(KEY)
    assert failure.error == (
        "the record breaks the contract: InvoiceNo: too long; Balance: not a number; correct it at its source,"
        " then replay"
    )
    assert not failure.retryable and systems.retries.sent == []


def test_the_result_carries_the_counts_and_each_error_naming_its_record() -> None:
    ledger = ledger_of(company())
    ledger.synced(KIND, KEY, mapping=mapping())
    ledger.failed(KIND, "01-ACME/1002", "503", retryable=True)
    ledger.flagged(KIND, "01-ACME/1003", "invoice 01-ACME/1003 changed in Sage")

    assert ledger.result(False) == StageResult(
        complete=False,
        counts=RunCounts(synced=1, failed=2),
        errors=("invoice 01-ACME/1002: 503", "invoice 01-ACME/1003 changed in Sage"),
    )


def test_a_payload_is_sealed_in_the_context_of_its_record() -> None:
    systems = company()
    sealed = ledger_of(systems).seal(RecordKind.VENDOR, "01-ACME", {"FedTaxId": "987654321"})

    assert sealed == {"ciphertext": "sealed-1"}
    assert systems.sealer.sealed == [
        ({"FedTaxId": "987654321"}, {"customer_id": CUSTOMER, "kind": "vendor", "source_key": "01-ACME"})
    ]
