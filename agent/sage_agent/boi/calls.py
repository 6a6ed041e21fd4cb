"""BOI's calling conventions: ``n`` methods return 1 (success), 0 (failure) or -1 (warning, the call took
effect); the reason of a 0 or -1 is in the object's ``sLastErrorMsg``. ``nGetValue`` fills its second,
by-reference argument, which pywin32 hands back as the second item of a tuple."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from sage_agent.backend import BackendFailure, FieldProblem, RecordLocked, WriteRefused

log = logging.getLogger("sage_agent.boi")
SUCCESS, FAILURE, WARNING = 1, 0, -1
LOCK_MARKERS = ("record/file busy", "locked", "in use by another")
LOCK_RETRY_AFTER = 2


def last_error(obj: Any) -> str:
    return str(obj.sLastErrorMsg or "").strip()


def is_lock_message(message: str) -> bool:
    lowered = message.lower()
    return any(marker in lowered for marker in LOCK_MARKERS)


def failure(obj: Any, what: str, *, field: str | None = None) -> Exception:
    """The exception for a 0 return: a lock, a refused value of ``field`` (422), or any other BOI failure."""
    message = last_error(obj) or f"{what} failed without a message"
    if is_lock_message(message):
        return RecordLocked(message, LOCK_RETRY_AFTER)
    if field is not None:
        return WriteRefused(f"{what}: {message}", [FieldProblem(field, message)])
    return BackendFailure(message)


def check(result: int, obj: Any, what: str, *, field: str | None = None) -> int:
    """``result`` when it is 1 or -1 (a warning is logged); raise for 0."""
    if result == WARNING:
        log.warning("BOI warning on %s: %s", what, last_error(obj))
    elif result != SUCCESS:
        raise failure(obj, what, field=field)
    return result


def get_value(obj: Any, column: str) -> Any:
    """``obj.nGetValue(column, placeholder)``: the value of ``column`` in the current record."""
    placeholder: Any = "" if column.endswith("$") else 0
    result, value = obj.nGetValue(column, placeholder)
    check(result, obj, f"GetValue {column}")
    return value


def get_text(obj: Any, column: str) -> str:
    return str(get_value(obj, column)).rstrip()


def get_amount(obj: Any, column: str) -> Decimal:
    """A numeric column as money: COM hands doubles back; round them to cents exactly once, here."""
    return Decimal(repr(float(get_value(obj, column)))).quantize(Decimal("0.01"))


def get_int(obj: Any, column: str) -> int:
    return int(get_value(obj, column))


def set_value(obj: Any, column: str, value: object, *, field: str) -> None:
    check(obj.nSetValue(column, value), obj, f"SetValue {column}", field=field)


def find(obj: Any, key: Mapping[str, object]) -> bool:
    """A keyed read on a ``_svc`` object: ``nSetKeyValue`` for each key column, then ``nFind()``."""
    for name, value in key.items():
        check(obj.nSetKeyValue(name, value), obj, f"SetKeyValue {name}")
    found = obj.nFind()
    if found == FAILURE and last_error(obj) and is_lock_message(last_error(obj)):
        raise failure(obj, "Find")
    return bool(found == SUCCESS)


def browse(obj: Any, prefix: str = "") -> Iterator[Any]:
    """Each record of ``obj`` in key order (within a key ``prefix`` when given); yields ``obj`` positioned."""
    check(obj.nSetBrowseFilter(prefix), obj, f"SetBrowseFilter {prefix!r}")
    if obj.nMoveFirst() != SUCCESS:
        return
    while not obj.nEOF:
        yield obj
        obj.nMoveNext()


def sage_date(day: dt.date) -> str:
    return day.strftime("%Y%m%d")
