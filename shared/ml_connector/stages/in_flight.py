"""Bounded concurrency for one customer's records: up to ``limit`` in flight, each on its own thread.

A Lambda invocation works for one customer, so a customer's concurrency is its own and never starves another's. The
exactly-once rules stay per record (lease, mapping, audit), so records may finish in any order; the caller keeps
what finished.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


def run_bounded(
    items: Iterable[T], work: Callable[[T], None], *, limit: int, go_on: Callable[[], bool] = lambda: True
) -> list[T]:
    """Run ``work`` on each item with at most ``limit`` at once, starting no new one once ``go_on()`` is False.
    Returns the items whose work finished, in the order they finished. Every started item is waited for; then the
    first error raised by any of them is raised again."""
    finished: list[T] = []
    if limit <= 1:  # no threads at all: the simplest path for one record at a time
        for item in items:
            if not go_on():
                break
            work(item)
            finished.append(item)
        return finished
    errors: list[BaseException] = []
    running: dict[Future[None], T] = {}

    def collect(done: set[Future[None]]) -> None:
        for future in done:
            item = running.pop(future)
            error = future.exception()
            if error is None:
                finished.append(item)
            else:
                errors.append(error)

    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="record") as pool:
        for item in items:
            if errors or not go_on():
                break
            if len(running) >= limit:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                collect(done)
                if errors or not go_on():
                    break
            running[pool.submit(work, item)] = item
        done, _ = wait(running)
        collect(done)
    if errors:
        raise errors[0]
    return finished


class KeyLocks:
    """One lock per key, for records in flight that touch the same thing (two payments of one invoice): a record
    holds all of its keys' locks, taken in sorted order so that two records never wait on each other."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    @contextmanager
    def holding(self, keys: Iterable[str]) -> Iterator[None]:
        with self._guard:
            locks = [self._locks[key] for key in sorted(set(keys))]
        for lock in locks:
            lock.acquire()
        try:
            yield
        finally:
            for lock in reversed(locks):
                lock.release()
