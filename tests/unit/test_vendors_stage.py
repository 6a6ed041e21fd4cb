"""The vendors stage on fakes: Sage 100 vendors upserted into AvidXchange, each reaching one final state."""

from __future__ import annotations

import datetime as dt

import pytest

from ml_connector.domain.sage import SageVendor
from ml_connector.errors import RecordRejected, RetryLater
from ml_connector.kinds import RecordKind, Stage
from ml_connector.stages.result import StageResult
from ml_connector.stages.retry import RecordStillFailing, retry_record
from ml_connector.stages.vendors import sync_vendors
from ml_connector.state.models import AuditEvent, MappingState
from tests.fakes import AGENT_NOW
from tests.unit.builders import CUSTOMER, Company, company, out_of_time, retry_of, sage_vendor, unreadable


@pytest.fixture
def acme() -> Company:
    made = company()
    made.agent.vendors = {"01-ACME": sage_vendor("ACME")}
    return made


def events(systems: Company, key: str) -> list[AuditEvent]:
    return [e.event for e in systems.state.list_audit(CUSTOMER, RecordKind.VENDOR, key)]


def test_a_new_vendor_is_upserted_mapped_and_audited(acme: Company) -> None:
    result = sync_vendors(acme.context())

    assert result.complete and (result.counts.read, result.counts.synced) == (1, 1)
    assert acme.avid.vendors["01-ACME"].name == "ACME Supply"
    mapping = acme.state.get_mapping(CUSTOMER, RecordKind.VENDOR, "01-ACME")
    assert mapping is not None and (mapping.state, mapping.remote_id) == (MappingState.SYNCED, "V-01-ACME")
    assert events(acme, "01-ACME") == [AuditEvent.READ, AuditEvent.TRANSFORMED, AuditEvent.PUSHED]
    assert acme.state.list_audit(CUSTOMER, RecordKind.VENDOR, "01-ACME")[-1].remote_id == "V-01-ACME"


@pytest.mark.parametrize(
    ("again", "sent", "counts"),
    [
        pytest.param(sage_vendor("ACME"), [], (0, 1), id="read-again-unchanged"),
        pytest.param(sage_vendor("ACME", updated="20261110"), [], (0, 1), id="touched-same-content"),
        pytest.param(sage_vendor("ACME", name="Acme Renamed", updated="20261110"), ["01-ACME"], (1, 0), id="renamed"),
        pytest.param(sage_vendor("ACME", status="I", updated="20261110"), ["01-ACME"], (1, 0), id="deactivated"),
    ],
)
def test_only_a_change_of_content_is_sent_again(
    acme: Company, again: SageVendor, sent: list[str], counts: tuple[int, int]
) -> None:
    sync_vendors(acme.context())
    acme.avid.batches.clear()
    acme.agent.vendors["01-ACME"] = again

    result = sync_vendors(acme.context())

    assert acme.avid.sent() == sent
    assert (result.counts.synced, result.counts.unchanged) == counts
    assert events(acme, "01-ACME").count(AuditEvent.PUSHED) == 1 + len(sent), "an unchanged vendor is not audited"


def test_an_older_version_read_after_a_newer_one_is_skipped_as_superseded(acme: Company) -> None:
    acme.agent.vendors["01-ACME"] = sage_vendor("ACME", name="Acme Newer", updated="20261110")
    sync_vendors(acme.context())
    acme.agent.vendors["01-ACME"] = sage_vendor("ACME", name="Acme Older", updated="20261101")

    result = sync_vendors(acme.context())

    assert result.counts.skipped == 1 and acme.avid.vendors["01-ACME"].name == "Acme Newer"
    (skipped,) = acme.state.list_skipped(CUSTOMER, RecordKind.VENDOR)
    assert skipped.source_key == "01-ACME" and skipped.reason.startswith("superseded")


@pytest.mark.parametrize(
    ("status", "hold", "active"),
    [
        pytest.param("A", "N", True, id="active"),
        pytest.param("I", "N", False, id="inactive"),
        pytest.param("T", "N", False, id="temporary"),
        pytest.param("A", "Y", False, id="on-payment-hold"),
    ],
)
def test_a_vendor_is_payable_in_avidxchange_only_while_active_and_not_on_hold(
    status: str, hold: str, active: bool
) -> None:
    systems = company()
    systems.agent.vendors = {"01-FLIP": sage_vendor("FLIP", status=status, hold=hold)}
    sync_vendors(systems.context())

    assert systems.avid.vendors["01-FLIP"].active is active
    mapping = systems.state.get_mapping(CUSTOMER, RecordKind.VENDOR, "01-FLIP")
    assert mapping is not None
    assert mapping.details == {
        "active": active,
        "status": status,
        "hold": hold == "Y",
        "source_updated_at": "2026-11-01T09:30:00",
    }


def test_a_vendor_deactivated_then_released_is_reactivated(acme: Company) -> None:
    history = []
    for day, status, hold in [("02", "I", "N"), ("03", "A", "Y"), ("04", "A", "N")]:
        acme.agent.vendors["01-ACME"] = sage_vendor("ACME", status=status, hold=hold, updated=f"202611{day}")
        sync_vendors(acme.context())
        history.append(acme.avid.vendors["01-ACME"].active)
    assert history == [False, False, True]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(("I", "N"), ("A", "Y"), id="inactive-then-on-hold"),
        pytest.param(("A", "Y"), ("I", "N"), id="on-hold-then-inactive"),
    ],
)
def test_the_mapping_follows_the_vendors_status_and_hold_even_when_avidxchanges_copy_is_the_same(
    acme: Company, before: tuple[str, str], after: tuple[str, str]
) -> None:
    acme.agent.vendors["01-ACME"] = sage_vendor("ACME", status=before[0], hold=before[1], updated="20261102")
    sync_vendors(acme.context())
    acme.agent.vendors["01-ACME"] = sage_vendor("ACME", status=after[0], hold=after[1], updated="20261103")
    sync_vendors(acme.context())

    mapping = acme.state.get_mapping(CUSTOMER, RecordKind.VENDOR, "01-ACME")
    assert mapping is not None
    assert (mapping.details["status"], mapping.details["hold"]) == (after[0], after[1] == "Y")


def test_the_tax_id_and_the_payload_are_sealed_never_written_in_clear() -> None:
    systems = company()
    systems.agent.vendors = {"01-SECRET": sage_vendor("SECRET", name="Hush Plumbing", tax_id="987654321")}
    sync_vendors(systems.context())

    assert systems.avid.vendors["01-SECRET"].fed_tax_id == "987654321"
    ((payload, context),) = systems.sealer.sealed
    assert payload["FedTaxId"] == "987654321"
    assert context == {"customer_id": CUSTOMER, "kind": "vendor", "source_key": "01-SECRET"}
    (transformed,) = [e for e in systems.state.audit if e.event is AuditEvent.TRANSFORMED]
    assert transformed.sealed_payload == {"ciphertext": "sealed-1"}
    written = " ".join(f"{e.detail} {e.error or ''}" for e in systems.state.audit)
    assert "987654321" not in written and "Hush Plumbing" not in written


@pytest.mark.parametrize(
    ("errors", "reason"),
    [
        pytest.param(["Name is required"], "AvidXchange refused it: Name is required", id="with-reason"),
        pytest.param(["Name is required", "Email invalid"], "Name is required; Email invalid", id="two-reasons"),
        pytest.param([], "AvidXchange refused it: no reason given", id="no-reason"),
    ],
)
def test_a_vendor_avidxchange_refuses_fails_alone_once_and_is_never_queued(
    acme: Company, errors: list[str], reason: str
) -> None:
    acme.agent.vendors["01-BLANK"] = sage_vendor("BLANK")
    acme.avid.refused["01-BLANK"] = errors

    result = sync_vendors(acme.context())

    assert (result.counts.synced, result.counts.failed) == (1, 1)
    assert set(acme.avid.vendors) == {"01-ACME"}
    failure = acme.failure("01-BLANK")
    assert reason in failure.error and (failure.attempts, failure.retryable) == (1, False)
    assert events(acme, "01-BLANK") == [AuditEvent.READ, AuditEvent.TRANSFORMED, AuditEvent.FAILED]
    assert acme.retries.sent == []
    assert [e for e in result.errors if "01-BLANK" in e], "the run's errors name the refused vendor"
    assert acme.state.get_mapping(CUSTOMER, RecordKind.VENDOR, "01-BLANK") is None


def test_a_refused_vendor_corrected_in_sage_goes_and_its_failure_closes(acme: Company) -> None:
    acme.avid.refused["01-ACME"] = ["Name is required"]
    sync_vendors(acme.context())
    del acme.avid.refused["01-ACME"]
    acme.agent.vendors["01-ACME"] = sage_vendor("ACME", name="Acme Fixed", updated="20261110")

    sync_vendors(acme.context())

    assert acme.avid.vendors["01-ACME"].name == "Acme Fixed" and acme.failed_keys() == []


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        pytest.param(RetryLater("AvidXchange unavailable (503)"), True, id="retry-later"),
        pytest.param(RecordRejected("batch refused (400)"), False, id="rejected"),
    ],
)
def test_a_batch_that_fails_as_a_whole_fails_every_record_in_it(
    acme: Company, error: Exception, retryable: bool
) -> None:
    acme.agent.vendors["01-BETA"] = sage_vendor("BETA")
    acme.avid.faults.fail_next("upsert_vendors", error)

    result = sync_vendors(acme.context())

    assert result.complete and (result.counts.synced, result.counts.failed) == (0, 2)
    assert acme.avid.vendors == {} and acme.state.mappings == {}
    assert {(f.source_key, f.retryable) for f in acme.state.list_failures(CUSTOMER)} == {
        ("01-ACME", retryable),
        ("01-BETA", retryable),
    }
    assert sorted(r.source_key for r in acme.retries.sent) == (["01-ACME", "01-BETA"] if retryable else [])


def test_an_unreadable_vendor_is_audited_and_fails_alone(acme: Company) -> None:
    acme.agent.invalid["vendors"] = [unreadable("01-LONGNAME")]

    result = sync_vendors(acme.context())

    assert (result.counts.synced, result.counts.failed) == (1, 1)
    failure = acme.failure("01-LONGNAME")
    assert not failure.retryable and acme.retries.sent == []
    assert failure.error == (
        "the record breaks the contract: VendorName: longer than 30 characters; correct it at its source, then replay"
    )
    assert events(acme, "01-LONGNAME") == [AuditEvent.FAILED]


def test_the_cursor_moves_to_the_agents_clock_and_the_next_run_polls_from_there_less_the_overlap(
    acme: Company,
) -> None:
    acme.settings(overlap_minutes=15)
    sync_vendors(acme.context())
    cursor = acme.state.get_cursor(CUSTOMER, "vendors")
    assert cursor.watermark == AGENT_NOW and not cursor.in_pass

    sync_vendors(acme.context())

    assert [since for since, _ in acme.agent.polls_of("vendors")] == [None, AGENT_NOW - dt.timedelta(minutes=15)]


def test_a_run_out_of_time_stops_after_a_page_and_its_continuations_send_the_rest_once() -> None:
    systems = company()
    systems.agent.page_size = 2
    systems.agent.vendors = {f"01-V{n}": sage_vendor(f"V{n}") for n in range(5)}

    runs: list[StageResult] = []
    while not runs or not runs[-1].complete:
        runs.append(sync_vendors(systems.context(budget=out_of_time())))

    assert [(r.complete, r.counts.synced) for r in runs] == [(False, 2), (False, 2), (True, 1)]
    assert sorted(systems.avid.sent()) == sorted(systems.agent.vendors), "each vendor sent exactly once"
    assert systems.state.get_cursor(CUSTOMER, "vendors").watermark == AGENT_NOW


@pytest.mark.parametrize(
    ("in_sage", "outcome"),
    [
        pytest.param(sage_vendor("ACME", name="Acme Now", updated="20261110"), "synced", id="changed-since"),
        pytest.param(sage_vendor("ACME"), "unchanged", id="as-synced"),
        pytest.param(None, "skipped", id="gone-from-sage"),
    ],
)
def test_a_retry_reads_the_vendor_again_by_key_and_sends_it_as_it_is_now(
    acme: Company, in_sage: SageVendor | None, outcome: str
) -> None:
    sync_vendors(acme.context())
    acme.avid.batches.clear()
    if in_sage is None:
        del acme.agent.vendors["01-ACME"]
    else:
        acme.agent.vendors["01-ACME"] = in_sage

    retry_record(acme.context(), retry_of(RecordKind.VENDOR, "01-ACME", Stage.VENDORS), receive_count=1)

    assert acme.avid.sent() == (["01-ACME"] if outcome == "synced" else [])
    trail = acme.state.list_audit(CUSTOMER, RecordKind.VENDOR, "01-ACME")
    if outcome == "synced":
        assert acme.avid.vendors["01-ACME"].name == "Acme Now" and trail[-1].event is AuditEvent.PUSHED
    elif outcome == "unchanged":
        assert trail[-1].event is AuditEvent.RETRIED, "read again and found unchanged: nothing sent"
    else:
        assert trail[-1].event is AuditEvent.SKIPPED and "no longer in Sage 100" in trail[-1].detail


def test_a_retry_that_meets_a_passing_failure_again_raises_and_queues_nothing(acme: Company) -> None:
    acme.avid.faults.fail_next("upsert_vendors", RetryLater("AvidXchange unavailable (503)"))
    with pytest.raises(RecordStillFailing, match="503"):
        retry_record(acme.context(), retry_of(RecordKind.VENDOR, "01-ACME", Stage.VENDORS), receive_count=2)
    assert acme.retries.sent == [], "the retry message itself stays on its queue"
    assert acme.failure("01-ACME").retryable
