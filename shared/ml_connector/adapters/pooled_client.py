"""What both HTTP clients share: one pooled httpx client, closed when the ``with`` block ends."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import httpx


class PooledClient:
    _http: httpx.Client

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
