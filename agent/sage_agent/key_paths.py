"""Record keys in paths may hold any character Sage allows, ``/`` included (``4471/B`` arrives as ``4471%2FB``).

The ASGI server decodes ``%2F`` into the path before routing, so ``.../4471%2FB/image`` would look like one
segment too many and miss its route. ``EncodedSlashPaths`` rebuilds the routing path from the raw path,
decoding each segment on its own and escaping ``%`` and ``/`` inside it again; the ``key`` path convertor
undoes that escape for every key parameter. Everything else routes exactly as before.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.convertors import Convertor, register_url_convertor

KEY_CONVERTOR = "key"


def _escape_segment(segment: str) -> str:
    return segment.replace("%", "%25").replace("/", "%2F")


def _unescape_segment(segment: str) -> str:
    return segment.replace("%2F", "/").replace("%25", "%")


class KeyConvertor(Convertor[str]):
    """One path segment holding a record key, with ``/`` and ``%`` restored."""

    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return _unescape_segment(value)

    def to_string(self, value: str) -> str:
        return _escape_segment(value)


def register_key_convertor() -> None:
    """Make ``{name:key}`` usable in route paths (idempotent)."""
    register_url_convertor(KEY_CONVERTOR, KeyConvertor())


def routing_path(raw_path: bytes) -> str:
    """The path to route on: each raw segment decoded alone, with its own ``%`` and ``/`` escaped again."""
    text = raw_path.decode("latin-1")
    return "/".join(_escape_segment(unquote(segment)) for segment in text.split("/"))


class EncodedSlashPaths:
    """Pure ASGI middleware: route on ``routing_path(raw_path)`` so an encoded ``/`` stays inside its segment."""

    def __init__(self, app: Any) -> None:
        self._app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        raw_path = scope.get("raw_path")
        if scope["type"] == "http" and raw_path:
            scope = {**scope, "path": routing_path(raw_path.partition(b"?")[0])}
        await self._app(scope, receive, send)
