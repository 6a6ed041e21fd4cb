"""The DynamoDB state store's lease and effect transactions (moto in process: a narrow adapter test)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import boto3
import pytest
from moto import mock_aws

from ml_connector.state import dynamodb as dynamodb_module
from ml_connector.state.dynamodb import DynamoStateStore, LeaseLost
from ml_connector.state.models import (
    AuditEntry,
    AuditEvent,
    Commit,
    KeyMapping,
    LeaseOutcome,
    MappingState,
    OutstandingInvoice,
)
from tests.support.moto_tables import keyed_table

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=16)


@pytest.fixture
def store() -> Iterator[DynamoStateStore]:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        keyed_table(dynamodb, "state")
        yield DynamoStateStore("state", audit_retention=dt.timedelta(days=30), dynamodb=dynamodb)


def lease(store: DynamoStateStore, owner: str, now: dt.datetime = NOW) -> LeaseOutcome:
    expires = now + dt.timedelta(minutes=15)
    return store.acquire_lease("c", "invoice", "01-ACME/1", owner=owner, now=now, expires_at=expires).outcome


def synced(remote_id: str = "I-1") -> KeyMapping:
    return KeyMapping(
        customer_id="c", kind="invoice", source_key="01-ACME/1", state=MappingState.SYNCED, remote_id=remote_id
    )


def test_a_live_lease_is_held_an_expired_one_taken_over_and_a_result_final(store: DynamoStateStore) -> None:
    assert lease(store, "w1") is LeaseOutcome.ACQUIRED
    assert lease(store, "w2") is LeaseOutcome.HELD, "w1 may still be creating it"
    assert lease(store, "w2", now=LATER) is LeaseOutcome.TAKEN_OVER, "w1's invocation is over: look it up first"
    store.commit(Commit(mapping=synced(), lease_owner="w2"))
    assert lease(store, "w3", now=LATER) is LeaseOutcome.SYNCED


def test_a_worker_whose_lease_was_taken_over_cannot_store_its_result(store: DynamoStateStore) -> None:
    lease(store, "w1")
    lease(store, "w2", now=LATER)
    entry = AuditEntry(customer_id="c", kind="invoice", source_key="01-ACME/1", event=AuditEvent.PUSHED, at=NOW)
    with pytest.raises(LeaseLost):
        store.commit(Commit(mapping=synced("I-2"), audit=[entry], lease_owner="w1"))
    assert store.get_mapping("c", "invoice", "01-ACME/1").state is MappingState.CLAIMED  # type: ignore[union-attr]
    assert [e.event for e in store.list_audit("c", "invoice", "01-ACME/1")] == [AuditEvent.PUSHED], (
        "the history of what w1 did is kept; its mapping is not"
    )


def test_an_effect_is_written_with_its_audit_and_outstanding_balance(store: DynamoStateStore) -> None:
    lease(store, "w1")
    entries = [
        AuditEntry(customer_id="c", kind="invoice", source_key="01-ACME/1", event=event, at=NOW)
        for event in (AuditEvent.READ, AuditEvent.TRANSFORMED, AuditEvent.PUSHED)
    ]
    owed = OutstandingInvoice(
        customer_id="c", source_key="01-ACME/1", remote_id="I-1", balance=Decimal("1250.00"), pushed_at=NOW
    )
    store.commit(Commit(mapping=synced(), audit=entries, lease_owner="w1", outstanding_puts=[owed]))

    assert [e.event for e in store.list_audit("c", "invoice", "01-ACME/1")] == [e.event for e in entries]
    assert store.get_outstanding("c", ["01-ACME/1"])["01-ACME/1"].balance == Decimal("1250.00")
    store.commit(Commit(outstanding_deletes=[("c", "01-ACME/1")]))
    assert list(store.list_outstanding("c")) == []


def test_a_listing_longer_than_a_query_page_comes_back_whole_in_key_order_a_page_at_a_time(
    store: DynamoStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb_module, "_QUERY_PAGE_LIMIT", 7)
    keys = [f"01-ACME/{n:04d}" for n in range(20)]
    for key in reversed(keys):
        store.put_outstanding(
            OutstandingInvoice(customer_id="c", source_key=key, remote_id="I-" + key, balance=Decimal(1), pushed_at=NOW)
        )
    queries: list[str] = []
    store._table.meta.client.meta.events.register("before-call.dynamodb.Query", lambda **_: queries.append("query"))

    listed = [o.source_key for o in store.list_outstanding("c")]

    assert listed == keys
    assert len(queries) == 3, "20 items in pages of 7"


def test_a_batch_of_records_is_written_with_its_history_fifty_records_to_a_transaction(
    store: DynamoStateStore,
) -> None:
    keys = [f"01-V{n:03d}" for n in range(60)]
    mappings = [
        KeyMapping(customer_id="c", kind="vendor", source_key=k, state=MappingState.SYNCED, remote_id="V-" + k)
        for k in keys
    ]
    audit = [
        AuditEntry(customer_id="c", kind="vendor", source_key=k, event=event, at=NOW, detail=f"{event} {k}")
        for k in keys
        for event in (AuditEvent.READ, AuditEvent.PUSHED)
    ]
    requests: list[str] = []
    client = store._table.meta.client
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: requests.append(model.name))

    store.commit_batch(mappings, audit)

    assert requests == ["TransactWriteItems", "TransactWriteItems"], "60 records, 2 items each: 100 + 20 items"
    assert store.get_mapping("c", "vendor", "01-V059") == mappings[-1]
    assert [e.detail for e in store.list_audit("c", "vendor", "01-V007")] == ["read 01-V007", "pushed 01-V007"]
