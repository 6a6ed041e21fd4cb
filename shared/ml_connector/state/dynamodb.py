"""The StateStore on one DynamoDB table (template.yaml: StateTable, keys pk/sk, index gsi1, TTL expires_at).

Item layout (one customer's records never share a partition with another's):
    C#{customer}                         RUN#{stage}        stage run status
    C#{customer}                         HEALTH             why a customer is paused
    C#{customer}                         CURSOR#{stream}    change-stream cursor
    C#{customer}#MAP#{kind}              {source key}       key mapping / create claim
    C#{customer}#AUDIT#{kind}#{key}      {iso time}#{id}    audit trail (TTL): the events one write made of it
    C#{customer}#FAIL                    {kind}#{key}       open failure; gsi1 = FAILURES / {customer}#{kind}#{key}
    C#{customer}#OPEN                    {invoice key}      outstanding invoice: what AvidXchange may still pay
    C#{customer}#RUNS                    {stage}#{finished} a finished stage run, kept (TTL)
    C#{customer}#SKIP#{kind}             {key}              a record skipped on purpose, with why (TTL)
    C#{customer}                         RECONCILE|PREVIEW  the latest scheduled reconciliation / onboarding preview
    C#{customer}#ALERTED                 {sha256 of kind}   a kind of failure already published to the alarm topic (TTL)

A record's effect (its mapping) is written in one transaction with the audit entries that explain it (a batch of
records, many to a transaction), so an effect is never durable without its history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from pydantic import BaseModel

from ml_connector.errors import RetryLater
from ml_connector.kinds import Stage
from ml_connector.model import Model
from ml_connector.state.batch_write import put_all, put_groups
from ml_connector.state.history import AlertedKind, ReviewRecord, ReviewTask, SkippedRecord
from ml_connector.state.models import (
    AuditEntry,
    Commit,
    Cursor,
    CustomerHealth,
    CustomerSnapshot,
    FailedRecord,
    KeyMapping,
    Lease,
    LeaseOutcome,
    MappingState,
    OutstandingInvoice,
    RunCounts,
    RunState,
    StageRun,
)

FAILURES_INDEX = "gsi1"
_FAILURES_PARTITION = "FAILURES"
_BATCH_GET_LIMIT = 100
# Items per query page: DynamoDB's own 1 MB page of small items parses into tens of MB of Python objects; a read is
# billed by size (4 KB units per page), so smaller pages cost about the same and keep a long listing's memory flat.
_QUERY_PAGE_LIMIT = 500


def _by_record(entries: Sequence[AuditEntry]) -> dict[tuple[str, str, str], list[AuditEntry]]:
    """Audit entries by (customer, kind, key), each record's in order."""
    by_record: dict[tuple[str, str, str], list[AuditEntry]] = {}
    for entry in entries:
        by_record.setdefault((entry.customer_id, entry.kind, entry.source_key), []).append(entry)
    return by_record


def _customer_pk(customer_id: str) -> str:
    return f"C#{customer_id}"


def _mapping_pk(customer_id: str, kind: str) -> str:
    return f"C#{customer_id}#MAP#{kind}"


def _audit_pk(customer_id: str, kind: str, source_key: str) -> str:
    return f"C#{customer_id}#AUDIT#{kind}#{source_key}"


def _failure_pk(customer_id: str) -> str:
    return f"C#{customer_id}#FAIL"


def _outstanding_pk(customer_id: str) -> str:
    return f"C#{customer_id}#OPEN"


def _runs_pk(customer_id: str) -> str:
    return f"C#{customer_id}#RUNS"


def _skipped_pk(customer_id: str, kind: str) -> str:
    return f"C#{customer_id}#SKIP#{kind}"


def _alerted_pk(customer_id: str) -> str:
    return f"C#{customer_id}#ALERTED"


class LeaseLost(RetryLater):
    """The lease this worker wrote under is gone (another worker took it over): its result is not stored."""


class _AuditItem(Model):
    events: list[AuditEntry]


def _to_item(model: BaseModel, **keys: Any) -> dict[str, Any]:
    attributes: dict[str, Any] = json.loads(model.model_dump_json(exclude_none=True), parse_float=Decimal)
    return {**attributes, **keys}


def _is_conditional_failure(error: ClientError) -> bool:
    return bool(error.response["Error"]["Code"] == "ConditionalCheckFailedException")


def _run_update(
    customer_id: str, stage: Stage, state: RunState, cycle_id: str, now: dt.datetime
) -> tuple[str, dict[str, Any]]:
    """What every change of a stage run's state sets (``#state`` names ``state``), with its values."""
    expression = "SET customer_id = :c, stage = :s, #state = :st, cycle_id = :cy, updated_at = :now"
    values = {":c": customer_id, ":s": stage.value, ":st": state.value, ":cy": cycle_id, ":now": now.isoformat()}
    return expression, values


class DynamoStateStore:
    def __init__(self, table_name: str, *, audit_retention: dt.timedelta, dynamodb: Any | None = None) -> None:
        self._table = (dynamodb or boto3.resource("dynamodb")).Table(table_name)
        self._audit_retention = audit_retention
        self._audit_sequence = itertools.count()

    # ------------------------------------------------------------------ stage runs
    def get_run(self, customer_id: str, stage: Stage) -> StageRun | None:
        item = self._table.get_item(Key={"pk": _customer_pk(customer_id), "sk": f"RUN#{stage}"}).get("Item")
        return StageRun.model_validate(item) if item else None

    def list_runs(self, customer_id: str) -> list[StageRun]:
        items = self._query(Key("pk").eq(_customer_pk(customer_id)) & Key("sk").begins_with("RUN#"))
        return [StageRun.model_validate(i) for i in items]

    def snapshots(self, customer_ids: Sequence[str], stages: Sequence[Stage]) -> dict[str, CustomerSnapshot]:
        """Stage runs and health of many customers, read in batches (one BatchGetItem per 25 customers)."""
        sort_keys = [*(f"RUN#{stage}" for stage in stages), "HEALTH"]
        keys = [{"pk": _customer_pk(c), "sk": sk} for c in customer_ids for sk in sort_keys]
        found: dict[str, CustomerSnapshot] = {c: CustomerSnapshot() for c in customer_ids}
        for item in self._batch_get(keys):
            snapshot = found[item["pk"].removeprefix("C#")]
            if item["sk"] == "HEALTH":
                snapshot.health = CustomerHealth.model_validate(item)
            else:
                run = StageRun.model_validate(item)
                snapshot.runs[run.stage] = run
        return found

    def try_mark_queued(
        self, customer_id: str, stage: Stage, cycle_id: str, now: dt.datetime, stale_after: dt.timedelta
    ) -> bool:
        """Mark a stage queued unless a run of it is already in flight (and not stale). Returns whether it did."""
        in_flight = [s.value for s in RunState if s.in_flight]
        expression, values = _run_update(customer_id, stage, RunState.QUEUED, cycle_id, now)
        try:
            # The client, not the Table resource: the dispatcher calls this from several threads.
            self._table.meta.client.update_item(
                TableName=self._table.name,
                Key={"pk": _customer_pk(customer_id), "sk": f"RUN#{stage}"},
                UpdateExpression=f"{expression}, queued_at = :now",
                ConditionExpression="attribute_not_exists(pk) OR NOT #state IN (:f1, :f2, :f3) OR updated_at < :stale",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    **values,
                    ":f1": in_flight[0],
                    ":f2": in_flight[1],
                    ":f3": in_flight[2],
                    ":stale": (now - stale_after).isoformat(),
                },
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def mark_running(self, customer_id: str, stage: Stage, cycle_id: str, now: dt.datetime) -> None:
        expression, values = _run_update(customer_id, stage, RunState.RUNNING, cycle_id, now)
        self._table.update_item(
            Key={"pk": _customer_pk(customer_id), "sk": f"RUN#{stage}"},
            UpdateExpression=f"{expression}, started_at = :now",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values,
        )

    def mark_finished(
        self,
        customer_id: str,
        stage: Stage,
        state: RunState,
        counts: RunCounts,
        now: dt.datetime,
        message: str | None = None,
        *,
        cycle_id: str,
    ) -> None:
        expression, values = _run_update(customer_id, stage, state, cycle_id, now)
        expression += ", finished_at = :now, counts = :counts, message = :msg"
        values |= {":counts": counts.model_dump(), ":msg": message or ""}
        if state in (RunState.SUCCEEDED, RunState.PARTIAL):
            expression += ", last_success_at = :now"
        self._table.update_item(
            Key={"pk": _customer_pk(customer_id), "sk": f"RUN#{stage}"},
            UpdateExpression=expression,
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values,
        )

    # ------------------------------------------------------------------ customer health
    def get_health(self, customer_id: str) -> CustomerHealth | None:
        item = self._table.get_item(Key={"pk": _customer_pk(customer_id), "sk": "HEALTH"}).get("Item")
        return CustomerHealth.model_validate(item) if item else None

    def put_health(self, health: CustomerHealth) -> None:
        self._table.put_item(Item=_to_item(health, pk=_customer_pk(health.customer_id), sk="HEALTH"))

    # ------------------------------------------------------------------ cursors
    def get_cursor(self, customer_id: str, stream: str) -> Cursor:
        item = self._table.get_item(Key={"pk": _customer_pk(customer_id), "sk": f"CURSOR#{stream}"}).get("Item")
        return Cursor.model_validate(item) if item else Cursor(customer_id=customer_id, stream=stream)

    def save_cursor(self, cursor: Cursor) -> None:
        self._table.put_item(Item=_to_item(cursor, pk=_customer_pk(cursor.customer_id), sk=f"CURSOR#{cursor.stream}"))

    # ------------------------------------------------------------------ key mappings and claims
    def get_mapping(self, customer_id: str, kind: str, source_key: str) -> KeyMapping | None:
        return self._get_mapping(customer_id, kind, source_key, consistent=False)

    def _get_mapping(self, customer_id: str, kind: str, source_key: str, *, consistent: bool) -> KeyMapping | None:
        key = {"pk": _mapping_pk(customer_id, kind), "sk": source_key}
        item = self._table.get_item(Key=key, ConsistentRead=consistent).get("Item")
        return KeyMapping.model_validate(item) if item else None

    def get_mappings(self, customer_id: str, kind: str, source_keys: Iterable[str]) -> dict[str, KeyMapping]:
        keys = [{"pk": _mapping_pk(customer_id, kind), "sk": k} for k in dict.fromkeys(source_keys)]
        mappings = (KeyMapping.model_validate(item) for item in self._batch_get(keys))
        return {mapping.source_key: mapping for mapping in mappings}

    def iter_mappings(self, customer_id: str, kind: str) -> Iterator[KeyMapping]:
        for item in self._query(Key("pk").eq(_mapping_pk(customer_id, kind))):
            yield KeyMapping.model_validate(item)

    def acquire_lease(
        self, customer_id: str, kind: str, source_key: str, *, owner: str, now: dt.datetime, expires_at: dt.datetime
    ) -> Lease:
        """Lease a record before creating it remotely: a conditional write that succeeds only where nobody leased it,
        or where the last lease expired without a result (then the record may exist remotely: TAKEN_OVER)."""
        lease = KeyMapping(
            customer_id=customer_id,
            kind=kind,
            source_key=source_key,
            state=MappingState.CLAIMED,
            claimed_at=now,
            lease_owner=owner,
            lease_expires_at=expires_at,
        )
        expired = Attr("state").eq(MappingState.CLAIMED.value) & (
            Attr("lease_expires_at").not_exists() | Attr("lease_expires_at").lt(now.isoformat())
        )
        try:
            response = self._table.put_item(
                Item=_to_item(lease, pk=_mapping_pk(customer_id, kind), sk=source_key),
                ConditionExpression=Attr("pk").not_exists() | expired,
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if not _is_conditional_failure(error):
                raise
            existing = self._get_mapping(customer_id, kind, source_key, consistent=True)
            if existing is None:  # released between our write and read: lease again
                return self.acquire_lease(customer_id, kind, source_key, owner=owner, now=now, expires_at=expires_at)
            outcome = LeaseOutcome.SYNCED if existing.state is MappingState.SYNCED else LeaseOutcome.HELD
            return Lease(outcome=outcome, owner=owner, mapping=existing)
        taken_over = "Attributes" in response
        return Lease(outcome=LeaseOutcome.TAKEN_OVER if taken_over else LeaseOutcome.ACQUIRED, owner=owner)

    def put_mapping(self, mapping: KeyMapping) -> None:
        self._table.put_item(
            Item=_to_item(mapping, pk=_mapping_pk(mapping.customer_id, mapping.kind), sk=mapping.source_key)
        )

    def release_lease(self, customer_id: str, kind: str, source_key: str, owner: str) -> None:
        """Drop a lease whose create was definitely refused (nothing exists remotely)."""
        try:
            self._table.delete_item(
                Key={"pk": _mapping_pk(customer_id, kind), "sk": source_key},
                ConditionExpression=Attr("state").eq(MappingState.CLAIMED.value) & Attr("lease_owner").eq(owner),
            )
        except ClientError as error:
            if not _is_conditional_failure(error):
                raise

    # ------------------------------------------------------------------ effects with their audit
    def commit(self, commit: Commit) -> None:
        """One record's effect in one transaction (one request): the audit entries that explain it, the
        outstanding-invoice changes it brings, and its mapping (conditional on its lease, if it holds one). It is
        all written or none of it, so an effect is never durable without its history. A mapping whose lease another
        worker took over is not written (``LeaseLost``); the audit of what this worker did is still kept."""
        expires_at = self._audit_expiry()
        name = self._table.name
        writes: list[dict[str, Any]] = [
            {"Put": {"TableName": name, "Item": item}} for item in self._audit_items(commit.audit, expires_at)
        ]
        writes += [
            {"Put": {"TableName": name, "Item": _to_item(o, pk=_outstanding_pk(o.customer_id), sk=o.source_key)}}
            for o in commit.outstanding_puts
        ]
        writes += [
            {"Delete": {"TableName": name, "Key": {"pk": _outstanding_pk(customer_id), "sk": key}}}
            for customer_id, key in commit.outstanding_deletes
        ]
        mapping = commit.mapping
        if mapping is not None:
            put: dict[str, Any] = {
                "TableName": name,
                "Item": _to_item(mapping, pk=_mapping_pk(mapping.customer_id, mapping.kind), sk=mapping.source_key),
            }
            if commit.lease_owner is not None:
                put |= {
                    "ConditionExpression": "lease_owner = :owner",
                    "ExpressionAttributeValues": {":owner": commit.lease_owner},
                }
            writes.append({"Put": put})
        if not writes:
            return
        try:
            self._table.meta.client.transact_write_items(TransactItems=writes)
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or []
            if mapping is not None and any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                self.append_audit(commit.audit)  # what this worker did stays in the record's history
                raise LeaseLost(
                    f"{mapping.kind} {mapping.source_key}: another worker took over the lease; its result decides"
                ) from None
            raise

    def commit_batch(self, mappings: Sequence[KeyMapping], audit: Sequence[AuditEntry]) -> None:
        """Many records' effects (a batch upsert): each record's history and its mapping in the same transaction, as
        many records to a transaction as fit (50), so a mapping is never durable without its history and a page of
        records costs one request per 50, not one per 25 items."""
        expires_at = self._audit_expiry()
        history = _by_record(audit)
        latest = {(m.customer_id, m.kind, m.source_key): m for m in mappings}
        groups = []
        for record in dict.fromkeys([*history, *latest]):
            group = [self._audit_item(record, history[record], expires_at)] if record in history else []
            if (mapping := latest.get(record)) is not None:
                group.append(
                    _to_item(mapping, pk=_mapping_pk(mapping.customer_id, mapping.kind), sk=mapping.source_key)
                )
            groups.append(group)
        put_groups(self._table.meta.client, self._table.name, groups)

    # ------------------------------------------------------------------ outstanding invoices
    def list_outstanding(self, customer_id: str) -> Iterator[OutstandingInvoice]:
        for item in self._query(Key("pk").eq(_outstanding_pk(customer_id))):
            yield OutstandingInvoice.model_validate(item)

    def get_outstanding(self, customer_id: str, source_keys: Iterable[str]) -> dict[str, OutstandingInvoice]:
        keys = [{"pk": _outstanding_pk(customer_id), "sk": k} for k in dict.fromkeys(source_keys)]
        found = (OutstandingInvoice.model_validate(item) for item in self._batch_get(keys, consistent=True))
        return {o.source_key: o for o in found}

    def put_outstanding(self, outstanding: OutstandingInvoice) -> None:
        self._table.put_item(
            Item=_to_item(outstanding, pk=_outstanding_pk(outstanding.customer_id), sk=outstanding.source_key)
        )

    # ------------------------------------------------------------------ audit trail
    def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        self._put_all(self._audit_items(entries, self._audit_expiry()))

    def _put_all(self, items: Sequence[dict[str, Any]]) -> None:
        put_all(self._table.meta.client, self._table.name, items)

    def _audit_expiry(self) -> int:
        return int((dt.datetime.now(dt.UTC) + self._audit_retention).timestamp())

    def _audit_items(self, entries: Sequence[AuditEntry], expires_at: int) -> list[dict[str, Any]]:
        """One item per record, holding that record's events in order: a record's read, transform and push cost
        one write, not three."""
        return [self._audit_item(record, events, expires_at) for record, events in _by_record(entries).items()]

    def _audit_item(self, record: tuple[str, str, str], events: list[AuditEntry], expires_at: int) -> dict[str, Any]:
        customer_id, kind, source_key = record
        # Items of one instant keep the order they were made in; the random part keeps processes apart.
        sk = f"{events[0].at.isoformat()}#{next(self._audit_sequence):010d}#{uuid.uuid4().hex[:8]}"
        item = _to_item(_AuditItem(events=events), pk=_audit_pk(customer_id, kind, source_key), sk=sk)
        return {**item, "expires_at": expires_at}

    def list_audit(self, customer_id: str, kind: str, source_key: str) -> list[AuditEntry]:
        items = self._query(Key("pk").eq(_audit_pk(customer_id, kind, source_key)))
        # Items written before events were grouped hold one entry each, at the top level.
        return [
            entry
            for i in items
            for entry in (_AuditItem.model_validate(i).events if "events" in i else [AuditEntry.model_validate(i)])
        ]

    # ------------------------------------------------------------------ failures
    def record_failure(self, failure: FailedRecord) -> FailedRecord:
        """Insert or update an open failure, counting attempts; returns the stored record."""
        response = self._table.update_item(
            Key={"pk": _failure_pk(failure.customer_id), "sk": f"{failure.kind}#{failure.source_key}"},
            UpdateExpression=(
                "SET customer_id = :c, kind = :k, source_key = :key, stage = :s, #error = :e, retryable = :r,"
                " last_failed_at = :now, first_failed_at = if_not_exists(first_failed_at, :now),"
                " attempts = if_not_exists(attempts, :zero) + :one, gsi1pk = :g, gsi1sk = :gs, parked = :p,"
                " flagged = :fl" + (", blocked_by = :b" if failure.blocked_by else " REMOVE blocked_by")
            ),
            ExpressionAttributeNames={"#error": "error"},
            ExpressionAttributeValues={
                ":c": failure.customer_id,
                ":k": failure.kind,
                ":key": failure.source_key,
                ":s": failure.stage.value,
                ":e": failure.error,
                ":r": failure.retryable,
                ":now": failure.last_failed_at.isoformat(),
                ":zero": 0,
                ":one": 1,
                ":g": _FAILURES_PARTITION,
                ":gs": f"{failure.customer_id}#{failure.kind}#{failure.source_key}",
                ":p": failure.parked,
                ":fl": failure.flagged,
                **({":b": failure.blocked_by} if failure.blocked_by else {}),
            },
            ReturnValues="ALL_NEW",
        )
        return FailedRecord.model_validate(response["Attributes"])

    def set_parked(self, customer_id: str, kind: str, source_key: str, *, parked: bool) -> None:
        """Mark an open failure parked (its customer is paused) or not; a resolved failure stays resolved."""
        try:
            self._table.update_item(
                Key={"pk": _failure_pk(customer_id), "sk": f"{kind}#{source_key}"},
                UpdateExpression="SET parked = :p",
                ConditionExpression=Attr("pk").exists(),
                ExpressionAttributeValues={":p": parked},
            )
        except ClientError as error:
            if not _is_conditional_failure(error):
                raise

    def resolve_failure(self, customer_id: str, kind: str, source_key: str) -> bool:
        """Remove an open failure once its record succeeded. Returns whether there was one."""
        response = self._table.delete_item(
            Key={"pk": _failure_pk(customer_id), "sk": f"{kind}#{source_key}"}, ReturnValues="ALL_OLD"
        )
        return "Attributes" in response

    def list_failures(self, customer_id: str | None = None) -> list[FailedRecord]:
        if customer_id is not None:
            items = self._query(Key("pk").eq(_failure_pk(customer_id)))
        else:
            items = self._query(Key("gsi1pk").eq(_FAILURES_PARTITION), index=FAILURES_INDEX)
        return [FailedRecord.model_validate(i) for i in items]

    # ------------------------------------------------------------------ history: runs, skipped records
    def archive_run(self, customer_id: str, stage: Stage) -> None:
        item = self._table.get_item(
            Key={"pk": _customer_pk(customer_id), "sk": f"RUN#{stage}"}, ConsistentRead=True
        ).get("Item")
        if not item:
            return
        run = StageRun.model_validate(item)
        finished = (run.finished_at or run.updated_at).isoformat()
        self._table.put_item(
            Item=_to_item(run, pk=_runs_pk(customer_id), sk=f"{stage}#{finished}", expires_at=self._audit_expiry())
        )

    def recent_runs(self, customer_id: str, stage: Stage, limit: int) -> list[StageRun]:
        response = self._table.query(
            KeyConditionExpression=Key("pk").eq(_runs_pk(customer_id)) & Key("sk").begins_with(f"{stage}#"),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [StageRun.model_validate(item) for item in response.get("Items", [])]

    def put_skipped(self, records: Sequence[SkippedRecord]) -> None:
        expires_at = self._audit_expiry()
        self._put_all(
            [
                _to_item(r, pk=_skipped_pk(r.customer_id, r.kind), sk=r.source_key, expires_at=expires_at)
                for r in records
            ]
        )

    def list_skipped(self, customer_id: str, kind: str) -> list[SkippedRecord]:
        return [SkippedRecord.model_validate(i) for i in self._query(Key("pk").eq(_skipped_pk(customer_id, kind)))]

    # ------------------------------------------------------------------ reviews: reconciliation, preview
    def get_review(self, customer_id: str, task: ReviewTask) -> ReviewRecord | None:
        item = self._table.get_item(Key={"pk": _customer_pk(customer_id), "sk": task.name}).get("Item")
        return ReviewRecord.model_validate(item) if item else None

    def get_reviews(self, customer_ids: Sequence[str], task: ReviewTask) -> dict[str, ReviewRecord]:
        keys = [{"pk": _customer_pk(c), "sk": task.name} for c in customer_ids]
        reviews = (ReviewRecord.model_validate(item) for item in self._batch_get(keys))
        return {review.customer_id: review for review in reviews}

    def try_mark_review_queued(
        self, customer_id: str, task: ReviewTask, now: dt.datetime, *, unless_queued_after: dt.datetime
    ) -> bool:
        try:
            self._table.meta.client.update_item(
                TableName=self._table.name,
                Key={"pk": _customer_pk(customer_id), "sk": task.name},
                UpdateExpression="SET customer_id = :c, task = :t, queued_at = :now",
                ConditionExpression="attribute_not_exists(queued_at) OR queued_at <= :since",
                ExpressionAttributeValues={
                    ":c": customer_id,
                    ":t": task.value,
                    ":now": now.isoformat(),
                    ":since": unless_queued_after.isoformat(),
                },
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def put_review_result(self, review: ReviewRecord) -> None:
        self._table.put_item(Item=_to_item(review, pk=_customer_pk(review.customer_id), sk=review.task.name))

    # ------------------------------------------------------------------ alerts
    def claim_alert(self, alert: AlertedKind) -> bool:
        digest = hashlib.sha256(alert.kind.encode()).hexdigest()  # a kind is a whole sentence: keep the key short
        item = _to_item(alert, pk=_alerted_pk(alert.customer_id), sk=digest, expires_at=self._audit_expiry())
        # DynamoDB deletes expired items up to days late: an expired one counts as gone.
        expired = Attr("expires_at").lt(int(alert.published_at.timestamp()))
        try:
            self._table.put_item(Item=item, ConditionExpression=Attr("pk").not_exists() | expired)
        except ClientError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    # ------------------------------------------------------------------ helpers
    def _batch_get(self, keys: Sequence[dict[str, str]], *, consistent: bool = False) -> Iterator[dict[str, Any]]:
        client = self._table.meta.client
        for start in range(0, len(keys), _BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self._table.name: {"Keys": list(keys[start : start + _BATCH_GET_LIMIT]), "ConsistentRead": consistent}
            }
            while request:
                response = client.batch_get_item(RequestItems=request)
                yield from response["Responses"].get(self._table.name, [])
                request = response.get("UnprocessedKeys") or {}

    def _query(self, condition: Any, index: str | None = None) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "Limit": _QUERY_PAGE_LIMIT}
        if index:
            kwargs["IndexName"] = index
        while True:
            response = self._table.query(**kwargs)
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
