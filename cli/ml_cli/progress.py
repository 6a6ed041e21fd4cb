"""Progress of a long read on the terminal: one line on stderr, rewritten in place; silent when stderr is not one."""

from __future__ import annotations

import sys
from typing import TextIO


class TerminalProgress:
    """Call it with (phase, records read so far); ``close`` clears the line. Does nothing unless ``stream`` is a TTY."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._active = self._stream.isatty()
        self._width = 0

    def __call__(self, phase: str, done: int) -> None:
        if not self._active:
            return
        line = f"reading {phase}: {done:,}"
        self._stream.write("\r" + line.ljust(self._width))
        self._stream.flush()
        self._width = max(self._width, len(line))

    def close(self) -> None:
        if self._active and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0
