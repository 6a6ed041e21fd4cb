"""Puts many items with BatchWriteItem, 25 to a request, re-sending what DynamoDB leaves unprocessed.

A BatchWriteItem answers 200 even when it wrote only part of the batch (``UnprocessedItems``, when a partition is
busy); those are sent again after a growing, jittered pause, as AWS advises, until they are written or the tries
run out (then ``RetryLater``: the caller's record or page is retried as a whole).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from ml_connector.errors import RetryLater

BATCH_LIMIT = 25  # DynamoDB's most writes per BatchWriteItem
ATTEMPTS = 8
FIRST_PAUSE_SECONDS = 0.05
MAX_PAUSE_SECONDS = 2.0


def put_all(
    client: Any,
    table_name: str,
    items: Sequence[dict[str, Any]],
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
                sleep(min(MAX_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2 ** (attempt - 1)) * jitter())
            response = client.batch_write_item(RequestItems={table_name: pending})
            requests += 1
            pending = response.get("UnprocessedItems", {}).get(table_name, [])
            if not pending:
                break
        else:
            raise RetryLater(f"DynamoDB left {len(pending)} of a batch of writes unprocessed after {ATTEMPTS} tries")
    return requests
