"""``pageNumber``/``pageSize`` parsing and the ``{Items, Paging}`` wrapper."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from avid_sim.errors import AvidApiError
from avid_sim.models import WireModel

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class PageRequest:
    number: int = 1
    size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def parse(cls, page_number: str | None, page_size: str | None) -> PageRequest:
        number = _positive_int("pageNumber", page_number, default=1)
        size = _positive_int("pageSize", page_size, default=DEFAULT_PAGE_SIZE)
        if size > MAX_PAGE_SIZE:
            raise AvidApiError(400, f"pageSize {size} is above the maximum of {MAX_PAGE_SIZE}; ask for fewer items")
        return cls(number, size)


def _positive_int(name: str, raw: str | None, *, default: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise AvidApiError(400, f"{name} {raw!r} is not a whole number") from None
    if value < 1:
        raise AvidApiError(400, f"{name} must be 1 or more, got {value}")
    return value


def page_of(records: Sequence[WireModel], request: PageRequest) -> dict[str, Any]:
    start = (request.number - 1) * request.size
    chosen = records[start : start + request.size]
    return {
        "Items": [record.wire() for record in chosen],
        "Paging": {
            "PageNumber": request.number,
            "PageSize": request.size,
            "PageCount": math.ceil(len(records) / request.size),
            "TotalItems": len(records),
        },
    }
