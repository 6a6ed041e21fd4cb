"""Polls one of the agent's change feeds with a durable cursor: overlap, page by page, across invocations.

A pass polls ``updated_since = watermark - overlap`` (the overlap covers late commits and workstation clocks; records
read twice are recognised by their content hash). After each page is durable (``handle_page`` has brought every
record to a final state and flushed), the agent's page cursor is saved, so a continuation resumes at the next page.
A handler that runs out of time budget mid-page returns the records it finished (``record_stamp``): the page's cursor
is not moved, and the continuation reads that page again and skips exactly those. A record changed since carries a
new stamp, so it is handled again, never skipped.
When the last page is done, the watermark moves to the agent's clock at the start of the pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol, TypeVar

from ml_connector.domain.sage import Page, SageModel
from ml_connector.stages.context import StageContext

T = TypeVar("T", bound=SageModel)
FetchPage = Callable[[dt.datetime | None, str | None], Page[T]]


def run_change_stream(
    ctx: StageContext,
    stream: str,
    fetch_page: FetchPage[T],
    handle_page: Callable[[Page[T], frozenset[str]], frozenset[str] | None],
    *,
    agent_now: dt.datetime,
) -> bool:
    """Process the stream until it is caught up (True) or the time budget runs low (False, cursor saved)."""
    cursor = ctx.state.get_cursor(ctx.customer_id, stream)
    if not cursor.in_pass:
        overlap = dt.timedelta(minutes=ctx.customer.overlap_minutes)
        since = cursor.watermark - overlap if cursor.watermark is not None else None
        cursor = cursor.model_copy(
            update={
                "pass_started_at": agent_now,
                "pass_since": since,
                "page_cursor": None,
                "page_done": [],
                "updated_at": ctx.clock(),
            }
        )
        ctx.state.save_cursor(cursor)
    first_page = True
    while first_page or not ctx.budget.exhausted():
        first_page = False
        page = fetch_page(cursor.pass_since, cursor.page_cursor)
        unfinished = handle_page(page, frozenset(cursor.page_done))
        if unfinished is not None:
            ctx.state.save_cursor(
                cursor.model_copy(update={"page_done": sorted(unfinished), "updated_at": ctx.clock()})
            )
            return False
        if page.next_cursor is None:
            ctx.state.save_cursor(
                cursor.model_copy(
                    update={
                        "watermark": cursor.pass_started_at,
                        "pass_started_at": None,
                        "pass_since": None,
                        "page_cursor": None,
                        "page_done": [],
                        "updated_at": ctx.clock(),
                    }
                )
            )
            return True
        cursor = cursor.model_copy(update={"page_cursor": page.next_cursor, "page_done": [], "updated_at": ctx.clock()})
        ctx.state.save_cursor(cursor)
    return False


class Stamped(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def updated_at(self) -> dt.datetime: ...


def record_stamp(record: Stamped) -> str:
    """A record as of one change: its key and when Sage last wrote it."""
    return f"{record.key}@{record.updated_at.isoformat()}"
