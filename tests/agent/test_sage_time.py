from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sage_agent.paging import decode_cursor, encode_cursor
from sage_agent.sage_time import ManualClock, SageStamp, parse_sage_date, parse_updated_since


def test_stamp_is_decimal_hours_with_five_decimals() -> None:
    stamp = SageStamp.at(dt.datetime(2026, 11, 20, 13, 31, 24, 420_000))
    assert (stamp.date, stamp.time_text) == ("20261120", "13.52345")


def test_stamp_round_trips_through_fields_and_ordinal() -> None:
    stamp = SageStamp.from_fields("20261120", "9.00001")
    assert stamp.time_units == 900_001
    assert SageStamp.from_ordinal(stamp.ordinal) == stamp
    assert stamp.time_text == "9.00001"


def test_successor_rolls_over_midnight() -> None:
    last = SageStamp("20261231", 2_399_999)
    assert last.successor() == SageStamp("20270101", 0)
    assert last < last.successor()


@pytest.mark.parametrize("text", ["2026112", "20261301", "2026113x", "20260230"])
def test_bad_sage_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="YYYYMMDD"):
        parse_sage_date(text)


def test_updated_since_parses_agent_local_time() -> None:
    assert parse_updated_since("20261120T13:30:05") == dt.datetime(2026, 11, 20, 13, 30, 5)
    with pytest.raises(ValueError, match="YYYYMMDDTHH:MM:SS"):
        parse_updated_since("20261120T25:00:00")


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(dt.datetime(2026, 11, 20, 8, 0))
    assert clock.now() == dt.datetime(2026, 11, 20, 8, 0)
    clock.advance(dt.timedelta(minutes=90))
    assert clock.now() == dt.datetime(2026, 11, 20, 9, 30)


@given(st.datetimes(min_value=dt.datetime(2000, 1, 1)), st.datetimes(min_value=dt.datetime(2000, 1, 1)))
def test_stamps_keep_the_order_of_time(first: dt.datetime, second: dt.datetime) -> None:
    earlier, later = sorted((first, second))
    assert SageStamp.at(earlier) <= SageStamp.at(later)
    assert SageStamp.at(earlier).ordinal <= SageStamp.at(later).ordinal
    stamp = SageStamp.at(later)
    assert SageStamp.from_fields(stamp.date, stamp.time_text) == stamp


@given(
    st.integers(min_value=20000101, max_value=29991231).filter(lambda d: 1 <= d // 100 % 100 <= 12),
    st.integers(min_value=0, max_value=2_399_999),
    st.tuples(st.text(max_size=12), st.integers()),
)
def test_cursors_round_trip(date: int, units: int, key: tuple[str, int]) -> None:
    stamp = SageStamp(f"{date}", units)
    assert decode_cursor("feed", encode_cursor("feed", stamp, key), (str, int)) == (stamp, key)
