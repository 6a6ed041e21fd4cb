"""Opaque keyset cursors for the change feeds.

A cursor is the (DateUpdated, TimeUpdated, key) position of the last record of a page, urlsafe-base64 JSON,
tagged with the feed it belongs to. The next page continues strictly after that position, so records that
change between pages are neither skipped nor repeated within the pass: a record updated during the pass
gets a later stamp, moves behind the cursor, and shows up again (in its new version) later in the same pass.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from sage_agent.backend import ChangeWindow, RecordKey
from sage_agent.records import ChangeTracked, Page
from sage_agent.sage_time import SageStamp

RecordT = TypeVar("RecordT", bound=ChangeTracked)


class BadCursor(ValueError):
    pass


def encode_cursor(feed: str, stamp: SageStamp, key: RecordKey) -> str:
    payload = json.dumps({"f": feed, "s": stamp.ordinal, "k": list(key)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(feed: str, cursor: str, key_types: Sequence[type]) -> tuple[SageStamp, RecordKey]:
    """The position in ``cursor``; ``BadCursor`` when it was not issued by this feed."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        stamp = SageStamp.from_ordinal(int(payload["s"]))
        key = tuple(payload["k"])
        if payload["f"] != feed:
            raise BadCursor(f"cursor belongs to the {payload['f']} feed, not {feed}")
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise BadCursor("cursor is not one this agent issued; restart the pass without it") from None
    if len(key) != len(key_types) or not all(type(part) is kind for part, kind in zip(key, key_types, strict=True)):
        raise BadCursor("cursor is not one this agent issued; restart the pass without it")
    if stamp.ordinal <= 0:
        raise BadCursor("cursor is not one this agent issued; restart the pass without it")
    return stamp, key


def read_page(
    feed: str,
    key_types: Sequence[type],
    browse: Callable[[ChangeWindow], list[RecordT]],
    *,
    limit: int,
    since: SageStamp | None,
    cursor: str | None,
) -> Page[RecordT]:
    """One page of a feed: asks the backend for ``limit + 1`` records to know whether another page follows."""
    after = decode_cursor(feed, cursor, key_types) if cursor else None
    records = browse(ChangeWindow(limit=limit + 1, since=since, after=after))
    if len(records) <= limit:
        return Page[RecordT](items=records, next_cursor=None)
    page = records[:limit]
    stamp, key = page[-1].change_position()
    return Page[RecordT](items=page, next_cursor=encode_cursor(feed, stamp, key))
