"""The GL stage on fakes: segment values and GL accounts as AvidXchange enterprise codes, Sage being their master."""

from __future__ import annotations

import pytest

from ml_connector.domain.sage import GLSegment
from ml_connector.errors import CustomerUnavailable, RecordRejected, RetryLater
from ml_connector.kinds import RecordKind, Stage
from ml_connector.stages.gl import sync_gl
from ml_connector.stages.retry import retry_record
from ml_connector.state.models import AuditEvent, MappingState
from tests.fakes import AGENT_NOW
from tests.unit.builders import (
    ACCOUNT_KEY,
    CUSTOMER,
    Company,
    company,
    gl_account,
    out_of_time,
    retry_of,
    segment_value,
    unreadable,
)

ACCOUNTING = "Accounting Codes"


@pytest.fixture
def chart() -> Company:
    """Cost center 300 and account 6100-300 on it."""
    made = company()
    made.agent.values = {"3-300": segment_value("300")}
    made.agent.accounts = {ACCOUNT_KEY: gl_account()}
    return made


def test_accounts_and_segment_values_become_enterprise_codes_with_mappings(chart: Company) -> None:
    result = sync_gl(chart.context())

    assert result.complete and (result.counts.read, result.counts.synced) == (2, 2)
    assert set(chart.avid.codes) == {(ACCOUNTING, "6100-300"), ("Cost Center", "300")}
    assert chart.avid.codes[("Cost Center", "300")].description == "Site 300"
    assert chart.avid.sent() == ["Cost Center/300", f"{ACCOUNTING}/6100-300"], "values before the accounts"
    account = chart.state.get_mapping(CUSTOMER, RecordKind.GL_ACCOUNT, ACCOUNT_KEY)
    value = chart.state.get_mapping(CUSTOMER, RecordKind.SEGMENT_VALUE, "3-300")
    assert account is not None and account.state is MappingState.SYNCED
    assert {k: account.details[k] for k in ("account", "active", "segments")} == {
        "account": "6100-300",
        "active": True,
        "segments": {"1": "6100", "3": "300"},
    }
    assert value is not None and {k: value.details[k] for k in ("segment_no", "code", "active")} == {
        "segment_no": 3,
        "code": "300",
        "active": True,
    }
    for kind, key in [(RecordKind.GL_ACCOUNT, ACCOUNT_KEY), (RecordKind.SEGMENT_VALUE, "3-300")]:
        trail = [e.event for e in chart.state.list_audit(CUSTOMER, kind, key)]
        assert trail == [AuditEvent.READ, AuditEvent.TRANSFORMED, AuditEvent.PUSHED]


@pytest.mark.parametrize(
    ("status", "active"),
    [
        pytest.param("A", True, id="active"),
        pytest.param("I", False, id="inactive"),
        pytest.param("D", False, id="deleted"),
    ],
)
def test_each_code_mirrors_its_own_sage_status(status: str, active: bool) -> None:
    systems = company()
    systems.agent.values = {"3-470": segment_value("470", status=status)}
    systems.agent.accounts = {"000000470": gl_account("000000470", "5020-470", cost_center="470", status=status)}
    sync_gl(systems.context())

    assert systems.avid.codes[("Cost Center", "470")].is_active is active
    assert systems.avid.codes[(ACCOUNTING, "5020-470")].is_active is active


def test_an_account_retired_in_sage_is_retired_in_avidxchange(chart: Company) -> None:
    sync_gl(chart.context())
    chart.agent.accounts[ACCOUNT_KEY] = gl_account(status="I")

    result = sync_gl(chart.context())

    assert (result.counts.synced, result.counts.unchanged) == (1, 1)
    assert not chart.avid.codes[(ACCOUNTING, "6100-300")].is_active


def test_extra_segments_are_synced_each_to_the_group_named_after_the_segment() -> None:
    systems = company(extra_segments=[2])
    systems.agent.segments.append(GLSegment(segment_no=2, segment_name="  Division ", length=2))
    systems.agent.values = {"3-300": segment_value("300"), "2-02": segment_value("02", segment_no=2)}

    result = sync_gl(systems.context())

    assert result.complete
    assert set(systems.avid.codes) == {("Cost Center", "300"), ("Division", "02")}
    assert {cursor.stream for cursor in systems.state.cursors.values()} == {
        "gl-segment-3",
        "gl-segment-2",
        "gl-accounts",
    }


def test_a_segment_the_sage_company_lacks_stops_the_customer_naming_it() -> None:
    systems = company(extra_segments=[5])
    with pytest.raises(CustomerUnavailable, match=r"GL segment\(s\) \[5\] do not exist in Sage company RCC"):
        sync_gl(systems.context())
    assert systems.avid.batches == []


def test_a_second_run_with_nothing_changed_sends_nothing(chart: Company) -> None:
    sync_gl(chart.context())
    chart.avid.batches.clear()

    result = sync_gl(chart.context())

    assert (result.counts.synced, result.counts.unchanged) == (0, 2) and chart.avid.batches == []


def test_a_code_avidxchange_refuses_fails_alone_once_and_is_never_queued(chart: Company) -> None:
    chart.agent.values["3-400"] = segment_value("400")
    chart.avid.refused["Cost Center/400"] = ["CodeValue already used by another group"]

    result = sync_gl(chart.context())

    assert (result.counts.synced, result.counts.failed) == (2, 1)
    assert ("Cost Center", "400") not in chart.avid.codes
    failure = chart.failure("3-400")
    assert (failure.kind, failure.retryable, failure.attempts) == (RecordKind.SEGMENT_VALUE, False, 1)
    assert failure.error == "AvidXchange refused it: CodeValue already used by another group"
    assert chart.retries.sent == []


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        pytest.param(RetryLater("AvidXchange unavailable (503)"), True, id="retry-later"),
        pytest.param(RecordRejected("batch refused (400)"), False, id="rejected"),
    ],
)
def test_a_batch_that_fails_as_a_whole_fails_every_code_in_it(
    chart: Company, error: Exception, retryable: bool
) -> None:
    chart.agent.values["3-400"] = segment_value("400")
    chart.avid.faults.fail_next("upsert_enterprise_codes", error)

    result = sync_gl(chart.context())

    assert result.complete and (result.counts.synced, result.counts.failed) == (1, 2)
    assert set(chart.avid.codes) == {(ACCOUNTING, "6100-300")}, "the accounts' batch went through"
    assert {(f.source_key, f.retryable) for f in chart.state.list_failures(CUSTOMER)} == {
        ("3-300", retryable),
        ("3-400", retryable),
    }
    assert sorted(r.source_key for r in chart.retries.sent) == (["3-300", "3-400"] if retryable else [])


@pytest.mark.parametrize(
    ("listing", "kind"),
    [
        pytest.param("segment-3", RecordKind.SEGMENT_VALUE, id="segment-value"),
        pytest.param("gl-accounts", RecordKind.GL_ACCOUNT, id="account"),
    ],
)
def test_an_unreadable_code_is_audited_and_fails_alone(chart: Company, listing: str, kind: RecordKind) -> None:
    chart.agent.invalid[listing] = [unreadable("BAD", "SubAccountDesc: longer than 40 characters")]

    result = sync_gl(chart.context())

    assert (result.counts.synced, result.counts.failed) == (2, 1)
    failure = chart.failure("BAD")
    assert (failure.kind, failure.retryable) == (kind, False)
    assert "the record breaks the contract: SubAccountDesc" in failure.error
    assert [e.event for e in chart.state.list_audit(CUSTOMER, kind, "BAD")] == [AuditEvent.FAILED]


def test_every_stream_moves_its_cursor_to_the_agents_clock(chart: Company) -> None:
    sync_gl(chart.context())
    cursors = {c.stream: c for c in chart.state.cursors.values()}
    assert {stream: (c.watermark, c.in_pass) for stream, c in cursors.items()} == {
        "gl-segment-3": (AGENT_NOW, False),
        "gl-accounts": (AGENT_NOW, False),
    }


def test_accounts_wait_for_their_segment_values_when_the_time_budget_runs_out() -> None:
    systems = company()
    systems.agent.page_size = 1
    systems.agent.values = {"3-300": segment_value("300"), "3-400": segment_value("400")}
    systems.agent.accounts = {ACCOUNT_KEY: gl_account()}

    first = sync_gl(systems.context(budget=out_of_time()))
    assert not first.complete and systems.avid.sent() == ["Cost Center/300"]
    second = sync_gl(systems.context(budget=out_of_time()))

    assert second.complete and systems.avid.sent()[1:] == ["Cost Center/400", f"{ACCOUNTING}/6100-300"]


@pytest.mark.parametrize(
    ("kind", "key", "sent"),
    [
        pytest.param(RecordKind.SEGMENT_VALUE, "3-300", ["Cost Center/300"], id="segment-value"),
        pytest.param(RecordKind.GL_ACCOUNT, ACCOUNT_KEY, [f"{ACCOUNTING}/6100-300"], id="account"),
    ],
)
def test_a_retry_reads_the_code_again_by_key_and_sends_it(
    chart: Company, kind: RecordKind, key: str, sent: list[str]
) -> None:
    retry_record(chart.context(), retry_of(kind, key, Stage.GL), receive_count=1)

    assert chart.avid.sent() == sent
    mapping = chart.state.get_mapping(CUSTOMER, kind, key)
    assert mapping is not None and mapping.state is MappingState.SYNCED


@pytest.mark.parametrize(
    ("kind", "key", "reason"),
    [
        pytest.param(RecordKind.SEGMENT_VALUE, "3-999", "no longer in Sage 100", id="value-gone"),
        pytest.param(RecordKind.SEGMENT_VALUE, "7-300", "its segment is not synced", id="segment-not-synced"),
        pytest.param(RecordKind.GL_ACCOUNT, "000000999", "no longer in Sage 100", id="account-gone"),
    ],
)
def test_a_retry_of_a_code_no_longer_in_sage_is_skipped(
    chart: Company, kind: RecordKind, key: str, reason: str
) -> None:
    chart.agent.values["7-300"] = segment_value("300", segment_no=7)

    retry_record(chart.context(), retry_of(kind, key, Stage.GL), receive_count=1)

    assert chart.avid.batches == []
    (skipped,) = chart.state.list_skipped(CUSTOMER, kind)
    assert skipped.source_key == key and reason in skipped.reason
