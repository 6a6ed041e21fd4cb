"""Batch upserts on fakes: what changed is sent in one call, and each item's own answer decides its fate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from ml_connector.domain.avid import BatchItemResult, EnterpriseCode
from ml_connector.domain.hashing import content_hash
from ml_connector.errors import RecordRejected, RetryLater
from ml_connector.kinds import RecordKind, Stage
from ml_connector.stages.batch_upsert import Upsert, upsert_batch
from ml_connector.stages.ledger import RecordLedger
from ml_connector.state.models import AuditEvent, KeyMapping, MappingState
from tests.unit.builders import CUSTOMER, Company, company

KIND = RecordKind.SEGMENT_VALUE
CHANGED_AT = dt.datetime(2026, 11, 10, 9, 30)


def code(value: str, description: str = "Site") -> EnterpriseCode:
    return EnterpriseCode(group_name="Cost Center", code_value=value, description=description)


def upsert(
    value: str, *, description: str = "Site", at: dt.datetime = CHANGED_AT, sensitive: bool = False
) -> Upsert[EnterpriseCode]:
    return Upsert(
        source_key=f"3-{value}",
        payload=code(value, description),
        source_updated_at=at,
        read_detail=f"Cost Center {value} changed",
        details={"code": value},
        sensitive=sensitive,
    )


@dataclass
class Endpoint:
    """AvidXchange's batch endpoint: answers item by item (refusing the ``refused``), or fails whole (``error``)."""

    refused: dict[str, list[str]] = field(default_factory=dict)
    error: Exception | None = None
    batches: list[list[str]] = field(default_factory=list)

    def send(self, codes: list[EnterpriseCode]) -> list[BatchItemResult]:
        self.batches.append([c.code_value for c in codes])
        if self.error is not None:
            raise self.error
        return [
            BatchItemResult(successful=False, errors=self.refused[c.code_value])
            if c.code_value in self.refused
            else BatchItemResult(successful=True, item={"Id": f"EC-{c.code_value}"})
            for c in codes
        ]


def synced(systems: Company, value: str, *, description: str = "Site", at: dt.datetime = CHANGED_AT) -> None:
    """The mapping an earlier upsert left for ``value``."""
    systems.state.put_mapping(
        KeyMapping(customer_id=CUSTOMER, kind=KIND, source_key=f"3-{value}", state=MappingState.SYNCED,
                   content_hash=content_hash(code(value, description)),
                   details={"code": value, "source_updated_at": at.isoformat()})
    )  # fmt: skip


def send(systems: Company, endpoint: Endpoint, *upserts: Upsert[EnterpriseCode]) -> RecordLedger:
    """One page's upserts, then the page made durable; the ledger tells the counts."""
    ledger = RecordLedger(systems.context(), Stage.GL)
    upsert_batch(systems.context(), ledger, KIND, upserts, endpoint.send)
    ledger.flush()
    return ledger


def events(systems: Company, key: str) -> list[AuditEvent]:
    return [e.event for e in systems.state.list_audit(CUSTOMER, KIND, key)]


def test_new_records_go_in_one_batch_and_are_mapped_with_their_hash_id_and_version() -> None:
    systems, endpoint = company(), Endpoint()

    ledger = send(systems, endpoint, upsert("300"), upsert("400"))

    assert endpoint.batches == [["300", "400"]]
    assert (ledger.counts.read, ledger.counts.synced) == (2, 2)
    mapping = systems.state.get_mapping(CUSTOMER, KIND, "3-300")
    assert mapping is not None
    assert (mapping.state, mapping.remote_id, mapping.content_hash) == (
        MappingState.SYNCED,
        "EC-300",
        content_hash(code("300")),
    )
    assert mapping.details == {"code": "300", "source_updated_at": "2026-11-10T09:30:00"}
    trail = systems.state.list_audit(CUSTOMER, KIND, "3-300")
    assert [e.event for e in trail] == [AuditEvent.READ, AuditEvent.TRANSFORMED, AuditEvent.PUSHED]
    assert (
        trail[1].detail == f"transformed; content sha256 {content_hash(code('300'))}: {code('300').model_dump_json()}"
    )
    assert (trail[2].detail, trail[2].remote_id) == ("upserted in AvidXchange", "EC-300")


def test_a_record_whose_content_hash_is_unchanged_is_not_sent_nor_audited() -> None:
    systems, endpoint = company(), Endpoint()
    synced(systems, "300")

    ledger = send(systems, endpoint, upsert("300", at=CHANGED_AT + dt.timedelta(days=1)))

    assert endpoint.batches == [], "no empty batch either"
    assert (ledger.counts.unchanged, ledger.counts.read) == (1, 0) and events(systems, "3-300") == []


@pytest.mark.parametrize(
    ("incoming_at", "sent"),
    [
        pytest.param(CHANGED_AT - dt.timedelta(minutes=1), False, id="older-superseded"),
        pytest.param(CHANGED_AT, True, id="same-write-time"),
        pytest.param(CHANGED_AT + dt.timedelta(minutes=1), True, id="newer"),
    ],
)
def test_a_changed_record_older_than_the_synced_version_is_skipped_as_superseded(
    incoming_at: dt.datetime, sent: bool
) -> None:
    systems, endpoint = company(), Endpoint()
    synced(systems, "300")

    ledger = send(systems, endpoint, upsert("300", description="Renamed", at=incoming_at))

    assert endpoint.batches == ([["300"]] if sent else [])
    assert (ledger.counts.synced, ledger.counts.skipped) == ((1, 0) if sent else (0, 1))
    if not sent:
        (skipped,) = systems.state.list_skipped(CUSTOMER, KIND)
        assert skipped.reason == "superseded: the version changed in Sage 2026-11-10T09:30:00 is synced"


def test_a_mapping_without_a_version_never_blocks_a_change() -> None:
    systems, endpoint = company(), Endpoint()
    systems.state.put_mapping(
        KeyMapping(customer_id=CUSTOMER, kind=KIND, source_key="3-300", state=MappingState.SYNCED, content_hash="old")
    )

    send(systems, endpoint, upsert("300", at=dt.datetime(2020, 1, 1)))

    assert endpoint.batches == [["300"]]


@pytest.mark.parametrize(
    ("errors", "reason"),
    [
        pytest.param(["CodeValue too long"], "AvidXchange refused it: CodeValue too long", id="one-reason"),
        pytest.param(["a", "b"], "AvidXchange refused it: a; b", id="two-reasons"),
        pytest.param([], "AvidXchange refused it: no reason given", id="no-reason"),
    ],
)
def test_each_item_meets_its_own_answer(errors: list[str], reason: str) -> None:
    systems, endpoint = company(), Endpoint(refused={"400": errors})
    ledger = RecordLedger(systems.context(), Stage.GL)

    delivered = upsert_batch(
        systems.context(), ledger, KIND, [upsert("300"), upsert("400"), upsert("500")], endpoint.send
    )
    ledger.flush()

    assert [u.source_key for u in delivered] == ["3-300", "3-500"], "the upserts that reached AvidXchange"
    assert (ledger.counts.synced, ledger.counts.failed) == (2, 1)
    assert {m.source_key for m in systems.state.mappings.values()} == {"3-300", "3-500"}
    failure = systems.failure("3-400")
    assert (failure.error, failure.retryable) == (reason, False) and systems.retries.sent == []
    assert events(systems, "3-400") == [AuditEvent.READ, AuditEvent.TRANSFORMED, AuditEvent.FAILED]


def test_an_item_answered_without_an_id_is_mapped_without_one() -> None:
    systems = company()

    def answer_without_ids(codes: list[EnterpriseCode]) -> list[BatchItemResult]:
        return [BatchItemResult(successful=True) for _ in codes]

    ledger = RecordLedger(systems.context(), Stage.GL)
    upsert_batch(systems.context(), ledger, KIND, [upsert("300")], answer_without_ids)

    mapping = systems.state.get_mapping(CUSTOMER, KIND, "3-300")
    assert mapping is not None and mapping.state is MappingState.SYNCED and mapping.remote_id is None


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        pytest.param(RetryLater("AvidXchange unavailable (503)"), True, id="retry-later"),
        pytest.param(RecordRejected("batch too large (413)"), False, id="rejected"),
    ],
)
def test_a_batch_that_fails_whole_fails_each_changed_record_in_it(error: Exception, retryable: bool) -> None:
    systems, endpoint = company(), Endpoint(error=error)
    synced(systems, "500")

    ledger = send(systems, endpoint, upsert("300"), upsert("400"), upsert("500"))

    assert (ledger.counts.failed, ledger.counts.unchanged, ledger.counts.synced) == (2, 1, 0)
    assert {(f.source_key, f.retryable, f.error) for f in systems.state.list_failures(CUSTOMER)} == {
        ("3-300", retryable, str(error)),
        ("3-400", retryable, str(error)),
    }
    assert [r.source_key for r in systems.retries.sent] == (["3-300", "3-400"] if retryable else [])
    assert ledger.retryable_failures == (2 if retryable else 0)


@pytest.mark.parametrize("sensitive", [pytest.param(True, id="sealed"), pytest.param(False, id="in-clear")])
def test_a_sensitive_payload_is_sealed_and_kept_out_of_the_audit_text(sensitive: bool) -> None:
    systems = company()

    send(systems, Endpoint(), upsert("300", description="Confidential Site", sensitive=sensitive))

    (transformed,) = [e for e in systems.state.audit if e.event is AuditEvent.TRANSFORMED]
    assert ("Confidential Site" in transformed.detail) is not sensitive
    assert transformed.sealed_payload == ({"ciphertext": "sealed-1"} if sensitive else None)
    assert [context for _, context in systems.sealer.sealed] == (
        [{"customer_id": CUSTOMER, "kind": KIND, "source_key": "3-300"}] if sensitive else []
    )


def test_a_batch_answer_that_does_not_match_the_batch_item_for_item_is_not_trusted() -> None:
    systems = company()

    def one_answer_short(codes: list[EnterpriseCode]) -> list[BatchItemResult]:
        return [BatchItemResult(successful=True) for _ in codes[1:]]

    ledger = RecordLedger(systems.context(), Stage.GL)
    with pytest.raises(ValueError, match="zip"):
        upsert_batch(systems.context(), ledger, KIND, [upsert("300"), upsert("400")], one_answer_short)
    assert systems.state.mappings == {}
