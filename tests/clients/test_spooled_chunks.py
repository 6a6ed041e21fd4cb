"""Chunks read once from their source and kept in an unnamed temp file, to be sent again without reading it again."""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import pytest

from ml_connector.adapters.streams import SpooledChunks


class CountedSource:
    """An image's chunks as the agent hands them over: counts the passes over it and the chunks read."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.passes = 0
        self.read = 0

    def __iter__(self) -> Iterator[bytes]:
        self.passes += 1
        for chunk in self.chunks:
            self.read += 1
            yield chunk


def open_files_in(directory: Path) -> int:
    """Files this process holds open in ``directory``, named or not (an unnamed temp file shows as deleted)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the fd listing itself, closed by now
            continue
        count += target.startswith(f"{directory}/")
    return count


CHUNKS = [b"a" * 10, b"b" * 7, b"c" * 12]
WHOLE = b"".join(CHUNKS)


def test_every_pass_yields_the_whole_while_the_source_is_read_once(tmp_path: Path) -> None:
    source = CountedSource(CHUNKS)
    with SpooledChunks(source, max_bytes=100, read_size=8, directory=str(tmp_path)) as spooled:
        assert b"".join(spooled) == WHOLE
        again = list(spooled)
        assert b"".join(again) == WHOLE
        assert b"".join(spooled) == WHOLE
        assert spooled.replayable
    assert (source.passes, source.read) == (1, len(CHUNKS))
    assert max(len(piece) for piece in again) <= 8, "read back in pieces of read_size, never whole"


def test_a_pass_broken_off_halfway_is_followed_by_a_whole_one_reading_on_from_the_source(tmp_path: Path) -> None:
    source = CountedSource(CHUNKS)
    with SpooledChunks(source, max_bytes=100, directory=str(tmp_path)) as spooled:
        assert list(islice(spooled, 2)) == CHUNKS[:2]
        assert b"".join(spooled) == WHOLE
    assert (source.passes, source.read) == (1, len(CHUNKS))


def test_past_the_limit_the_copy_is_dropped_but_the_first_pass_still_yields_everything(tmp_path: Path) -> None:
    with SpooledChunks(CHUNKS, max_bytes=20, directory=str(tmp_path)) as spooled:
        first = iter(spooled)
        assert next(first) == CHUNKS[0]
        assert open_files_in(tmp_path) == 1
        assert list(first) == CHUNKS[1:]
        assert not spooled.replayable
        assert open_files_in(tmp_path) == 0, "the copy is closed as soon as it is too big"
        with pytest.raises(RuntimeError, match="past 20 bytes"):
            next(iter(spooled))


def test_the_temp_file_has_no_name_and_is_closed_on_leaving_even_on_an_error(tmp_path: Path) -> None:
    def failed_upload() -> None:
        with SpooledChunks(CHUNKS, max_bytes=100, directory=str(tmp_path)) as spooled:
            next(iter(spooled))
            assert open_files_in(tmp_path) == 1
            assert list(tmp_path.iterdir()) == []
            raise ConnectionError("upload failed")

    with pytest.raises(ConnectionError):
        failed_upload()
    assert open_files_in(tmp_path) == 0
