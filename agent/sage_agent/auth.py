"""``X-Agent-Key`` checks: keys are held only as SHA-256 hashes and compared in constant time."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sage_agent.client_gate import FailedKeyThrottle, Network, client_allowed
from sage_agent.http_errors import ErrorBody, ErrorDetail

AGENT_KEY_HEADER = "X-Agent-Key"
PUBLIC_PATHS = frozenset({"/openapi.json"})


def hash_agent_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class AgentKeys:
    def __init__(self, sha256_hashes: Iterable[str]) -> None:
        self._digests = [bytes.fromhex(h) for h in sha256_hashes]
        if not self._digests:
            raise ValueError("at least one agent key is required")

    def accepts(self, presented: str | None) -> bool:
        digest = hashlib.sha256((presented or "").encode()).digest()
        matched = False
        for known in self._digests:
            matched |= hmac.compare_digest(digest, known)
        return matched and presented is not None


def _error_body(code: str, message: str) -> bytes:
    detail = ErrorDetail(code=code, message=message, retryable=False)
    return json.dumps(ErrorBody(error=detail).model_dump(exclude_none=True)).encode()


_UNAUTHORIZED = _error_body(
    "unauthorized", f"{AGENT_KEY_HEADER} is missing or wrong; check the agent key configured for this customer"
)
_FORBIDDEN = _error_body(
    "forbidden", "this client address is not in the agent's allowed_clients; ask the Sage server's administrator"
)


@dataclass(frozen=True)
class ClientPolicy:
    """Which client networks may connect (empty: any) and how failed keys are slowed (``None``: not slowed)."""

    allowed: tuple[Network, ...] = ()
    throttle: FailedKeyThrottle | None = None
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


class AgentKeyMiddleware:
    """Pure ASGI middleware, before any parsing: the client's address must be allowed (else 403, key unread),
    then every request except the OpenAPI document needs a valid key (else 401, slower after repeated failures).
    """

    def __init__(self, app: Any, keys: AgentKeys, policy: ClientPolicy | None = None) -> None:
        self._app = app
        self._keys = keys
        self._policy = policy or ClientPolicy()
        self._header = AGENT_KEY_HEADER.lower().encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        address = scope["client"][0] if scope.get("client") else ""
        if not client_allowed(address, self._policy.allowed):
            await _answer(send, 403, _FORBIDDEN)
            return
        if scope["path"] in PUBLIC_PATHS:
            await self._app(scope, receive, send)
            return
        throttle = self._policy.throttle
        delay = throttle.delay(address) if throttle else 0.0
        if delay:
            await self._policy.sleep(delay)
        presented = next((v for k, v in scope["headers"] if k == self._header), None)
        text = presented.decode("latin-1") if presented is not None else None
        accepted = self._keys.accepts(text)
        if throttle:
            (throttle.succeeded if accepted else throttle.failed)(address)
        if accepted:
            await self._app(scope, receive, send)
            return
        await _answer(send, 401, _UNAUTHORIZED)


async def _answer(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
