"""``X-Agent-Key`` checks: keys are held only as SHA-256 hashes and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any

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


_UNAUTHORIZED = json.dumps(
    ErrorBody(
        error=ErrorDetail(
            code="unauthorized",
            message=f"{AGENT_KEY_HEADER} is missing or wrong; check the agent key configured for this customer",
            retryable=False,
        )
    ).model_dump(exclude_none=True)
).encode()


class AgentKeyMiddleware:
    """Pure ASGI middleware: every request except the OpenAPI document needs a valid key, before any parsing."""

    def __init__(self, app: Any, keys: AgentKeys) -> None:
        self._app = app
        self._keys = keys
        self._header = AGENT_KEY_HEADER.lower().encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self._app(scope, receive, send)
            return
        presented = next((v for k, v in scope["headers"] if k == self._header), None)
        text = presented.decode("latin-1") if presented is not None else None
        if self._keys.accepts(text):
            await self._app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_UNAUTHORIZED)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _UNAUTHORIZED})
