"""Batch puts: 25 to a request, what DynamoDB leaves unprocessed sent again after a growing pause; groups written
whole, as many to a transaction as fit, a transaction cancelled by a conflict sent again."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ml_connector.errors import RetryLater
from ml_connector.state import batch_write
from ml_connector.state.batch_write import put_all, put_groups


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


class ConflictingTable:
    """TransactWriteItems cancelled with ``reason`` for its first item ``conflicts`` times, then written whole."""

    def __init__(self, conflicts: int, reason: str = "TransactionConflict") -> None:
        self.conflicts, self.reason = conflicts, reason
        self.requests: list[list[str]] = []
        self.written: list[str] = []

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> None:
        assert len(TransactItems) <= 100, "DynamoDB refuses more than 100 items a transaction"
        keys = [t["Put"]["Item"]["sk"] for t in TransactItems]
        self.requests.append(keys)
        if self.conflicts:
            self.conflicts -= 1
            reasons = [{"Code": self.reason}] + [{"Code": "None"}] * (len(keys) - 1)
            raise ClientError(
                {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons},
                "TransactWriteItems",
            )
        self.written += keys


def groups(count: int, size: int) -> list[list[dict[str, Any]]]:
    return [[{"pk": "p", "sk": f"{n:03d}.{i}"} for i in range(size)] for n in range(count)]


def test_groups_go_as_many_whole_to_a_transaction_as_fit() -> None:
    table = ConflictingTable(conflicts=0)
    assert put_groups(table, "t", groups(60, 2), sleep=lambda _: None) == 2
    assert [len(r) for r in table.requests] == [100, 20] and len(table.written) == 120
    table = ConflictingTable(conflicts=0)
    put_groups(table, "t", groups(40, 3), sleep=lambda _: None)
    assert [len(r) for r in table.requests] == [99, 21], "a group is never split between two transactions"


def test_a_transaction_cancelled_by_a_conflict_is_sent_again_after_growing_pauses() -> None:
    table, pauses = ConflictingTable(conflicts=2), list[float]()
    put_groups(table, "t", groups(3, 2), sleep=pauses.append, jitter=lambda: 1.0)
    assert len(table.requests) == 3 and pauses == [0.05, 0.1] and len(table.written) == 6


def test_a_transaction_conflicting_on_every_try_is_a_passing_failure() -> None:
    table = ConflictingTable(conflicts=batch_write.ATTEMPTS)
    with pytest.raises(RetryLater, match="cancelled a transaction of 4 writes"):
        put_groups(table, "t", groups(2, 2), sleep=lambda _: None)
    assert table.written == []


def test_a_transaction_refused_for_any_other_reason_is_not_sent_again() -> None:
    table = ConflictingTable(conflicts=1, reason="ValidationError")
    with pytest.raises(ClientError):
        put_groups(table, "t", groups(2, 2), sleep=lambda _: None)
    assert len(table.requests) == 1


def test_a_group_larger_than_a_transaction_is_refused_before_anything_is_written() -> None:
    table = ConflictingTable(conflicts=0)
    with pytest.raises(ValueError, match="a group of 101 items"):
        put_groups(table, "t", groups(1, 101), sleep=lambda _: None)
    assert table.requests == []
