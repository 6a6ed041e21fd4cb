"""What both HTTP clients share: one pooled httpx client, closed when the ``with`` block ends, and timed.

Every request either client sends goes through its one ``httpx.Client``, so the latency metric is taken here, once
per attempt: from sending the request to the response's headers (a retried call counts each attempt).
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import ClassVar, Self

import httpx

from ml_connector.observability import record_call_latency

_STARTED = "ml_connector.started"


class PooledClient:
    call_latency_metric: ClassVar[str]
    """``AgentCallLatency`` or ``AvidCallLatency``: set by each client class."""

    _http_client: httpx.Client

    @property
    def _http(self) -> httpx.Client:
        return self._http_client

    @_http.setter
    def _http(self, client: httpx.Client) -> None:
        client.event_hooks = {"request": [_mark_started], "response": [self._record_latency]}
        self._http_client = client

    def _record_latency(self, response: httpx.Response) -> None:
        started = response.request.extensions.get(_STARTED)
        if isinstance(started, float):
            record_call_latency(self.call_latency_metric, (time.perf_counter() - started) * 1000)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _mark_started(request: httpx.Request) -> None:
    request.extensions[_STARTED] = time.perf_counter()
