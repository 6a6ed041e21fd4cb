"""Turns pydantic validation errors into the short, field-named messages AvidConnect returns."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from starlette.requests import Request

from avid_sim.errors import AvidApiError


def field_messages(error: ValidationError) -> list[str]:
    return [_message(detail) for detail in error.errors()]


def _message(detail: ErrorDetails) -> str:
    where = _location(detail["loc"])
    kind = detail["type"]
    context = detail.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and context.get("min_length") == 1):
        return f"{where} is required"
    if kind == "string_too_long":
        return f"{where} is longer than {context['max_length']} characters"
    return f"{where}: {detail['msg']}"


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "record"


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AvidApiError(400, f"request body is not valid JSON ({exc}); send UTF-8 JSON") from None
