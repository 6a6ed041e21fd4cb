"""Batch puts: 25 to a request, what DynamoDB leaves unprocessed sent again after a growing pause."""

from __future__ import annotations

from typing import Any

import pytest

from ml_connector.errors import RetryLater
from ml_connector.state import batch_write
from ml_connector.state.batch_write import put_all


class BusyTable:
    """BatchWriteItem that leaves the last item of each request unprocessed ``busy`` times."""

    def __init__(self, busy: int) -> None:
        self.busy = busy
        self.requests: list[list[str]] = []
        self.written: dict[tuple[str, str], dict[str, Any]] = {}

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        (writes,) = RequestItems.values()
        assert len(writes) <= 25, "DynamoDB refuses more than 25 writes a request"
        self.requests.append([w["PutRequest"]["Item"]["sk"] for w in writes])
        left = writes[-1:] if self.busy else []
        self.busy -= bool(left)
        for write in writes[: len(writes) - len(left)]:
            item = write["PutRequest"]["Item"]
            self.written[(item["pk"], item["sk"])] = item
        return {"UnprocessedItems": {"t": left} if left else {}}


def items(count: int) -> list[dict[str, Any]]:
    return [{"pk": "p", "sk": f"{n:03d}", "n": n} for n in range(count)]


def test_sixty_items_take_three_requests() -> None:
    table = BusyTable(busy=0)
    assert put_all(table, "t", items(60), sleep=lambda _: None) == 3
    assert [len(r) for r in table.requests] == [25, 25, 10] and len(table.written) == 60


def test_unprocessed_items_are_sent_again_after_growing_pauses() -> None:
    table, pauses = BusyTable(busy=3), list[float]()
    put_all(table, "t", items(5), sleep=pauses.append, jitter=lambda: 1.0)
    assert table.requests == [["000", "001", "002", "003", "004"], ["004"], ["004"], ["004"]]
    assert pauses == [0.05, 0.1, 0.2] and len(table.written) == 5


def test_writes_still_unprocessed_after_every_try_are_a_passing_failure() -> None:
    table = BusyTable(busy=batch_write.ATTEMPTS)
    with pytest.raises(RetryLater, match="1 of a batch of writes unprocessed"):
        put_all(table, "t", items(3), sleep=lambda _: None)
    assert len(table.requests) == batch_write.ATTEMPTS


def test_two_writes_of_one_key_go_once_the_last_winning() -> None:
    table = BusyTable(busy=0)
    put_all(table, "t", [{"pk": "p", "sk": "a", "v": 1}, {"pk": "p", "sk": "a", "v": 2}], sleep=lambda _: None)
    assert table.requests == [["a"]] and table.written[("p", "a")]["v"] == 2
