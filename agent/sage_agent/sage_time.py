"""Sage 100's own date and time stamps, and the injectable clock that produces them.

Sage stores ``DateUpdated`` as ``YYYYMMDD`` and ``TimeUpdated`` as decimal hours with five decimals
(``"13.52345"`` = 13:31:24.42). One unit of the fifth decimal is 1/100000 hour (36 ms).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

from sage_agent.sage_text import is_ascii_digits

UNITS_PER_HOUR = 100_000
UNITS_PER_DAY = 24 * UNITS_PER_HOUR
_MICROSECONDS_PER_HOUR = 3_600_000_000
UPDATED_SINCE_FORMAT = "%Y%m%dT%H:%M:%S"


class Clock(Protocol):
    """The agent-local wall clock (the Sage server's time), naive datetimes."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now()


class ManualClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: dt.datetime) -> None:
        with self._lock:
            self._now = moment


def format_sage_date(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def parse_sage_date(text: str) -> dt.date:
    """``YYYYMMDD`` -> date; ValueError with a plain message otherwise."""
    if len(text) != 8 or not is_ascii_digits(text):
        raise ValueError(f"{text!r} is not a Sage date (YYYYMMDD)")
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise ValueError(f"{text!r} is not a calendar date (YYYYMMDD)") from None


def parse_updated_since(text: str) -> dt.datetime:
    if not text.isascii():
        raise ValueError(f"{text!r} is not a valid YYYYMMDDTHH:MM:SS agent-local time (ASCII digits only)")
    try:
        return dt.datetime.strptime(text, UPDATED_SINCE_FORMAT)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid YYYYMMDDTHH:MM:SS agent-local time") from None


def format_server_time(moment: dt.datetime) -> str:
    return moment.strftime(UPDATED_SINCE_FORMAT)


@dataclass(frozen=True, order=True)
class SageStamp:
    """A ``DateUpdated``+``TimeUpdated`` pair, ordered in time."""

    date: str
    time_units: int

    @classmethod
    def at(cls, moment: dt.datetime) -> SageStamp:
        """The stamp Sage writes at ``moment`` (decimal hours truncated to five decimals)."""
        micros = ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 1_000_000 + moment.microsecond
        return cls(format_sage_date(moment.date()), micros * UNITS_PER_HOUR // _MICROSECONDS_PER_HOUR)

    @classmethod
    def from_fields(cls, date_text: str, time_text: str) -> SageStamp:
        parse_sage_date(date_text)
        try:
            units = int(Decimal(time_text) * UNITS_PER_HOUR)
        except InvalidOperation:
            raise ValueError(f"{time_text!r} is not a Sage decimal-hours time") from None
        if not 0 <= units < UNITS_PER_DAY:
            raise ValueError(f"{time_text!r} is not a time of day in decimal hours")
        return cls(date_text, units)

    @classmethod
    def from_ordinal(cls, value: int) -> SageStamp:
        date_part, units = divmod(value, 10_000_000)
        return cls(f"{date_part:08d}", units)

    @property
    def ordinal(self) -> int:
        """One sortable integer: ``YYYYMMDD`` * 10^7 + time units (how the simulated backend stores it)."""
        return int(self.date) * 10_000_000 + self.time_units

    @property
    def time_text(self) -> str:
        hours, fraction = divmod(self.time_units, UNITS_PER_HOUR)
        return f"{hours}.{fraction:05d}"

    def successor(self) -> SageStamp:
        """The next representable stamp (36 ms later)."""
        if self.time_units + 1 < UNITS_PER_DAY:
            return SageStamp(self.date, self.time_units + 1)
        next_day = parse_sage_date(self.date) + dt.timedelta(days=1)
        return SageStamp(format_sage_date(next_day), 0)
