"""Adapts an iterator of byte chunks to the file-like object httpx's multipart encoder reads from."""

from __future__ import annotations

import io
from collections.abc import Iterable


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
