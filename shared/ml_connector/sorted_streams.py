"""Streams of any length in key order, in bounded memory: an external merge sort that spills sorted runs to temporary
files, and a full outer join of two key-ordered streams.

Reconciling two ledgers that list records in different orders would otherwise need one side held whole in memory.
"""

from __future__ import annotations

import heapq
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Generic, TypeVar

T = TypeVar("T")
L = TypeVar("L")
R = TypeVar("R")

DEFAULT_RUN_SIZE = 20_000
"""Records held in memory at once before a sorted run is written to disk."""


class ExternalSorter(Generic[T]):
    """Collect records with ``add``, then iterate them once in ``key`` order (ties keep their arrival order).

    At most ``run_size`` records are in memory while adding; reading merges the spilled runs, one record of each in
    memory. ``dump``/``load`` turn a record into one line of text and back. Use it as a context manager: the spilled
    files are removed when the block ends.
    """

    def __init__(
        self,
        key: Callable[[T], str],
        dump: Callable[[T], str],
        load: Callable[[str], T],
        *,
        run_size: int = DEFAULT_RUN_SIZE,
        directory: Path | None = None,
    ) -> None:
        if run_size < 1:
            raise ValueError(f"run_size must be at least 1, not {run_size}")
        self._key, self._dump, self._load = key, dump, load
        self._run_size = run_size
        self._directory = directory
        self._buffer: list[T] = []
        self._runs: list[IO[str]] = []
        self._resources = ExitStack()
        self.count = 0

    def __enter__(self) -> ExternalSorter[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self._resources.close()

    @property
    def runs(self) -> int:
        """Sorted runs written to disk so far."""
        return len(self._runs)

    def add(self, record: T) -> None:
        self._buffer.append(record)
        self.count += 1
        if len(self._buffer) >= self._run_size:
            self._spill()

    def add_all(self, records: Iterable[T]) -> ExternalSorter[T]:
        for record in records:
            self.add(record)
        return self

    def _spill(self) -> None:
        run = self._resources.enter_context(
            tempfile.TemporaryFile("w+", encoding="utf-8", dir=self._directory, prefix="ml-sort-")  # noqa: SIM115
        )
        self._buffer.sort(key=self._key)
        for record in self._buffer:
            run.write(self._dump(record).replace("\n", " ") + "\n")
        self._buffer.clear()
        self._runs.append(run)

    def __iter__(self) -> Iterator[T]:
        if not self._runs:
            self._buffer.sort(key=self._key)
            yield from self._buffer
            return
        if self._buffer:
            self._spill()
        for run in self._runs:
            run.seek(0)
        yield from heapq.merge(*(self._read(run) for run in self._runs), key=self._key)

    def _read(self, run: IO[str]) -> Iterator[T]:
        for line in run:
            yield self._load(line)


def join_sorted(
    left: Iterable[L], right: Iterable[R], left_key: Callable[[L], str], right_key: Callable[[R], str]
) -> Iterator[tuple[str, list[L], list[R]]]:
    """Full outer join of two streams already in key order: each key once, with the records of each side that carry
    it (either list may be empty, both hold more than one record only when a side repeats a key)."""
    lefts, rights = _grouped(left, left_key), _grouped(right, right_key)
    next_left, next_right = next(lefts, None), next(rights, None)
    while next_left is not None or next_right is not None:
        if next_right is None or (next_left is not None and next_left[0] < next_right[0]):
            assert next_left is not None
            yield next_left[0], next_left[1], []
            next_left = next(lefts, None)
        elif next_left is None or next_right[0] < next_left[0]:
            yield next_right[0], [], next_right[1]
            next_right = next(rights, None)
        else:
            yield next_left[0], next_left[1], next_right[1]
            next_left, next_right = next(lefts, None), next(rights, None)


def _grouped(records: Iterable[T], key: Callable[[T], str]) -> Iterator[tuple[str, list[T]]]:
    current: str | None = None
    group: list[T] = []
    for record in records:
        record_key = key(record)
        if current is not None and record_key < current:
            raise ValueError(f"stream is not in key order: {record_key!r} after {current!r}")
        if record_key != current and group:
            assert current is not None
            yield current, group
            group = []
        current = record_key
        group.append(record)
    if group:
        assert current is not None
        yield current, group
