"""Query-string values parsed once at the edge, with errors that name the parameter."""

from __future__ import annotations

import datetime as dt

from avid_sim.errors import AvidApiError


def instant(name: str, raw: str | None) -> dt.datetime | None:
    """An ISO 8601 date or date-time; naive values are UTC."""
    if raw is None or raw == "":
        return None
    try:
        value = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise AvidApiError(400, f"{name} {raw!r} is not an ISO 8601 date-time, e.g. 2026-11-20T14:02:11Z") from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def required_instant(name: str, raw: str | None) -> dt.datetime:
    value = instant(name, raw)
    if value is None:
        raise AvidApiError(400, f"{name} is required (ISO 8601 date-time)")
    return value
