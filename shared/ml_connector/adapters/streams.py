"""Byte chunks for httpx's multipart encoder: read from an iterator once, or kept in a temp file to send again."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import IO, Self


class IterableReader(io.RawIOBase):
    """A read-once, non-seekable reader over byte chunks: holds at most one chunk in memory.

    Not seekable and without a file number, so httpx cannot learn the length up front and sends the upload
    with chunked transfer encoding instead of reading it whole.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks = iter(chunks)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


class SpooledChunks:
    """Byte chunks read once from ``source`` and copied, as they pass, to a temp file, so they can be sent again.

    Each pass replays what was copied so far, in ``read_size`` pieces, then goes on reading the source where the
    last pass stopped: a pass broken off halfway still yields the whole. Past ``max_bytes`` the copy is dropped and
    ``replayable`` turns False. At most one chunk is in memory. The temp file has no name on disk, so it is gone once
    closed, even if the process dies first.
    """

    def __init__(
        self, source: Iterable[bytes], *, max_bytes: int, read_size: int = 64 * 1024, directory: str | None = None
    ) -> None:
        self._source = iter(source)
        self._max_bytes = max_bytes
        self._read_size = read_size
        self._directory = directory
        self._spool: IO[bytes] | None = None
        self._spooled = 0
        self._too_big = False

    @property
    def replayable(self) -> bool:
        return not self._too_big

    def __iter__(self) -> Iterator[bytes]:
        if self._too_big:
            raise RuntimeError(f"the chunks went past {self._max_bytes} bytes: they were not kept to be read again")
        yield from self._replay()
        for chunk in self._source:
            self._keep(chunk)
            yield chunk

    def _replay(self) -> Iterator[bytes]:
        if self._spool is None:
            return
        self._spool.seek(0)
        left = self._spooled
        while left > 0:
            chunk = self._spool.read(min(self._read_size, left))
            if not chunk:
                raise RuntimeError(f"the spool file ended {left} bytes early")
            left -= len(chunk)
            yield chunk

    def _keep(self, chunk: bytes) -> None:
        if self._too_big:
            return
        if self._spooled + len(chunk) > self._max_bytes:
            self._too_big = True
            self.close()
            return
        if self._spool is None:
            self._spool = tempfile.TemporaryFile(prefix="ml-spool-", dir=self._directory)  # noqa: SIM115 - closed by close()
        self._spool.seek(0, io.SEEK_END)
        self._spool.write(chunk)
        self._spooled += len(chunk)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
