"""The external sort and the key-ordered join that let reconciliation compare ledgers in bounded memory."""

from __future__ import annotations

import json
import random

import pytest

from ml_connector.sorted_streams import ExternalSorter, join_sorted


def sorter(run_size: int) -> ExternalSorter[tuple[str, int]]:
    return ExternalSorter(lambda r: r[0], json.dumps, lambda line: tuple(json.loads(line)), run_size=run_size)


def test_more_records_than_a_run_are_spilled_and_merged_in_key_order() -> None:
    records = [(f"k{random.Random(7).randrange(10**6) + n:07d}", n) for n in range(1000)]
    random.Random(3).shuffle(records)

    with sorter(run_size=10) as external:
        external.add_all(records)
        assert external.runs >= 99  # never more than 10 records held while adding
        merged = list(external)

    assert [key for key, _ in merged] == sorted(key for key, _ in records)
    assert sorted(merged) == sorted(records)


def test_ties_keep_their_arrival_order_and_a_small_input_never_touches_disk() -> None:
    with sorter(run_size=100) as external:
        external.add_all([("b", 1), ("a", 2), ("b", 3), ("a", 4)])
        assert external.runs == 0
        assert list(external) == [("a", 2), ("a", 4), ("b", 1), ("b", 3)]


def test_join_pairs_each_key_with_the_records_of_both_sides() -> None:
    left = [("a", 1), ("b", 2), ("b", 3), ("d", 4)]
    right = [("b", 10), ("c", 11), ("d", 12)]

    joined = list(join_sorted(left, right, lambda r: r[0], lambda r: r[0]))

    assert joined == [
        ("a", [("a", 1)], []),
        ("b", [("b", 2), ("b", 3)], [("b", 10)]),
        ("c", [], [("c", 11)]),
        ("d", [("d", 4)], [("d", 12)]),
    ]


def test_a_stream_out_of_key_order_is_refused() -> None:
    with pytest.raises(ValueError, match="not in key order"):
        list(join_sorted([("b", 1), ("a", 2)], [], lambda r: r[0], lambda r: r[0]))
