"""Text and JSON output: aligned tables, UTC times, ages."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel


def print_json(data: Any) -> None:
    print(json.dumps(_plain(data), indent=2, default=str))


def _plain(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(v) for v in data]
    return data


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns; the last column is not padded (it holds long messages)."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = []
    for cells in [headers, *rows]:
        padded = [cell.ljust(widths[i]) for i, cell in enumerate(cells[:-1])]
        lines.append("  ".join([*padded, cells[-1]]).rstrip())
    return "\n".join(lines)


def when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def duration(span: dt.timedelta | None) -> str:
    """A compact span: ``45s``, ``12m``, ``3h05m``, ``2d04h``."""
    if span is None:
        return "-"
    seconds = max(0, int(span.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes}m"
    if days == 0:
        return f"{hours}h{minutes % 60:02d}m"
    return f"{days}d{hours % 24:02d}h"
