"""Bounded concurrency: how many run at once, what a spent budget stops, errors, and per-key turns."""

from __future__ import annotations

import threading

import pytest

from ml_connector.stages.in_flight import KeyLocks, run_bounded


def test_at_most_limit_run_at_once_and_all_finish() -> None:
    running, most, guard = 0, 0, threading.Lock()
    together = threading.Barrier(3, timeout=30)  # the first three wait for each other: they must run at once

    def work(item: int) -> None:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        if item < 3:
            together.wait()
        with guard:
            running -= 1

    finished = run_bounded(range(10), work, limit=3)
    assert sorted(finished) == list(range(10)) and most == 3


@pytest.mark.parametrize("limit", [1, 2, 4], ids=["one-at-a-time", "two", "four"])
def test_no_new_item_starts_once_the_budget_is_spent(limit: int) -> None:
    asked = iter([True, True, False])
    started: list[int] = []
    finished = run_bounded(range(5), started.append, limit=limit, go_on=lambda: next(asked))
    assert sorted(started) == sorted(finished) == [0, 1], "the two started finish; no third starts"


def test_the_first_error_is_raised_after_the_started_items_finish() -> None:
    done: list[int] = []

    def work(item: int) -> None:
        if item == 1:
            raise KeyError("bad record")
        done.append(item)

    with pytest.raises(KeyError, match="bad record"):
        run_bounded(range(2), work, limit=2)
    assert done == [0]


def test_records_sharing_a_key_take_turns_and_others_do_not_wait() -> None:
    locks = KeyLocks()
    inside = threading.Event()
    release = threading.Event()
    entered: list[str] = []

    def first() -> None:
        with locks.holding(["invoice-1", "invoice-2"]):
            entered.append("first")
            inside.set()
            release.wait(30)

    def sharing() -> None:
        with locks.holding(["invoice-2", "invoice-3"]):
            entered.append("sharing")

    holder = threading.Thread(target=first)
    holder.start()
    inside.wait(30)
    with locks.holding(["invoice-9"]):  # a record with other keys goes at once
        entered.append("other")
    waiting = threading.Thread(target=sharing)
    waiting.start()
    waiting.join(0.2)
    assert waiting.is_alive() and "sharing" not in entered, "it waits while invoice-2 is held"
    release.set()
    holder.join(30)
    waiting.join(30)
    assert entered == ["first", "other", "sharing"]
