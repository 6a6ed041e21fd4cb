"""Many DynamoDB puts in few requests: loose items with BatchWriteItem (25 to a request, re-sending what DynamoDB
leaves unprocessed), groups that must be written whole with TransactWriteItems (as many whole groups as fit 100 items).

A BatchWriteItem answers 200 even when it wrote only part of the batch (``UnprocessedItems``, when a partition is
busy); a transaction is cancelled whole when another write to one of its items is in flight or a partition is
throttled. Either is sent again after a growing, jittered pause, as AWS advises, until it is written or the tries run
out (then ``RetryLater``: the caller's record or page is retried as a whole).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from botocore.exceptions import ClientError

from ml_connector.errors import RetryLater

BATCH_LIMIT = 25  # DynamoDB's most writes per BatchWriteItem
TRANSACTION_LIMIT = 100  # DynamoDB's most items per TransactWriteItems
ATTEMPTS = 8
FIRST_PAUSE_SECONDS = 0.05
MAX_PAUSE_SECONDS = 2.0
# Cancellation reasons that pass: another write to the item was in flight, or its partition was busy ("None" marks
# the items that were not at fault).
_PASSING_REASONS = frozenset({"None", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})

Item = dict[str, Any]


def put_all(
    client: Any,
    table_name: str,
    items: Sequence[Item],
    *,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> int:
    """Write every item (the last one wins where two share a key). Returns how many requests it took."""
    unique = list({(item["pk"], item["sk"]): item for item in items}.values())
    requests = 0
    for start in range(0, len(unique), BATCH_LIMIT):
        pending = [{"PutRequest": {"Item": item}} for item in unique[start : start + BATCH_LIMIT]]
        for attempt in range(ATTEMPTS):
            if attempt:
                sleep(_pause(attempt, jitter))
            response = client.batch_write_item(RequestItems={table_name: pending})
            requests += 1
            pending = response.get("UnprocessedItems", {}).get(table_name, [])
            if not pending:
                break
        else:
            raise RetryLater(f"DynamoDB left {len(pending)} of a batch of writes unprocessed after {ATTEMPTS} tries")
    return requests


def put_groups(
    client: Any,
    table_name: str,
    groups: Sequence[Sequence[Item]],
    *,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> int:
    """Write every group whole or not at all, as many whole groups to a transaction as fit. No two items of the
    groups may share a key (DynamoDB refuses two writes of one item in a transaction). Returns how many requests it
    took."""
    requests = 0
    for packed in _packed(groups):
        writes = [{"Put": {"TableName": table_name, "Item": item}} for item in packed]
        for attempt in range(ATTEMPTS):
            if attempt:
                sleep(_pause(attempt, jitter))
            requests += 1
            try:
                client.transact_write_items(TransactItems=writes)
                break
            except ClientError as error:
                if not _passing(error):
                    raise
        else:
            raise RetryLater(f"DynamoDB cancelled a transaction of {len(writes)} writes {ATTEMPTS} times (conflicts)")
    return requests


def _packed(groups: Sequence[Sequence[Item]]) -> Iterator[list[Item]]:
    packed: list[Item] = []
    for group in groups:
        if len(group) > TRANSACTION_LIMIT:
            raise ValueError(f"a group of {len(group)} items does not fit one transaction ({TRANSACTION_LIMIT})")
        if len(packed) + len(group) > TRANSACTION_LIMIT:
            yield packed
            packed = []
        packed.extend(group)
    if packed:
        yield packed


def _passing(error: ClientError) -> bool:
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons") or []
    return bool(reasons) and all(reason.get("Code", "None") in _PASSING_REASONS for reason in reasons)


def _pause(attempt: int, jitter: Callable[[], float]) -> float:
    return min(MAX_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2.0 ** (attempt - 1)) * jitter()
