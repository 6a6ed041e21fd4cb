"""ASGI middleware in front of the /v1 calls, as AvidXchange's gateway and a flaky network would be: the rate limit
first (a refused call is answered at once, with no latency and no state change), then latency, then faults."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from avid_sim.errors import error_body
from avid_sim.faults import FaultKind, FaultPlan, FaultRule
from avid_sim.rate_limit import RateLimiter

FAULTED_PREFIX = "/v1/"


class FaultInjectionMiddleware:
    def __init__(self, app: ASGIApp, plan: FaultPlan, limiter: RateLimiter) -> None:
        self._app = app
        self._plan = plan
        self._limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(FAULTED_PREFIX):
            await self._app(scope, receive, send)
            return
        retry_after = self._limiter.admit()
        if retry_after is not None:
            await _drain_body(receive)
            await _send_rate_limited(send, retry_after)
            return
        decision = self._plan.decide(scope["method"], scope["path"])
        if decision.latency:
            await asyncio.sleep(decision.latency)
        rule = decision.fault
        if rule is None:
            await self._app(scope, receive, send)
            return
        answer: list[Message] = []
        if rule.processed:
            await self._app(scope, receive, _collect_into(answer))
        else:
            await _drain_body(receive)
        await self._fail(rule, scope, receive, send, answer)

    async def _fail(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send, answer: list[Message]) -> None:
        if rule.kind is FaultKind.RATE_LIMIT:
            await _send_rate_limited(send, rule.retry_after)
        elif rule.kind is FaultKind.SERVER_ERROR:
            await _send_json(send, rule.status, _server_error_body(rule.status, scope))
        elif rule.kind is FaultKind.TIMEOUT:
            await _until_disconnect(receive, rule.hold_seconds)
            if answer:
                for message in answer:
                    await send(message)
            else:
                await _send_json(send, 504, error_body(504, "the request timed out upstream; retry it"))
        else:
            await _drop_connection(send)


def _collect_into(answer: list[Message]) -> Send:
    async def collect(message: Message) -> None:
        answer.append(message)

    return collect


async def _drain_body(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _until_disconnect(receive: Receive, seconds: float) -> None:
    """Wait ``seconds``, or less if the client hangs up first (so a stopping server is not held up)."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(disconnected(), timeout=seconds)
    except TimeoutError:
        return


def _server_error_body(status: int, scope: Scope) -> dict[str, Any]:
    headers = "; ".join(f"{name.decode('latin-1')}: {value.decode('latin-1')}" for name, value in scope["headers"])
    return error_body(status, f"unhandled error while processing {scope['method']} {scope['path']}; request: {headers}")


async def _send_rate_limited(send: Send, retry_after: int) -> None:
    detail = f"rate limit exceeded; retry after {retry_after} seconds"
    await _send_json(send, 429, error_body(429, detail), {"retry-after": str(retry_after)})


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(name.encode(), value.encode()) for name, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


async def _drop_connection(send: Send) -> None:
    """Abort the TCP connection (no TLS close_notify, no HTTP response).

    ASGI has no message for this, so we reach the transport through uvicorn's ``send``, a bound method of its
    request cycle. Afterwards we yield to the loop so uvicorn registers the disconnect before we return,
    and does not try to answer 500 on the dead connection."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if not isinstance(transport, asyncio.Transport):
        raise RuntimeError("cannot drop the connection: the server is not uvicorn (no transport behind send)")
    transport.abort()
    for _ in range(3):
        await asyncio.sleep(0)
