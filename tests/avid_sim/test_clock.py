from __future__ import annotations

import datetime as dt

from avid_sim.clock import SimClock


def test_a_set_clock_stays_put_and_moves_when_advanced() -> None:
    clock = SimClock()
    clock.set(dt.datetime(2026, 11, 20, 14, 2, 11, 999))
    assert clock.now() == dt.datetime(2026, 11, 20, 14, 2, 11, tzinfo=dt.UTC)
    clock.advance(dt.timedelta(days=1))
    assert clock.now().date() == dt.date(2026, 11, 21)


def test_offsets_are_converted_to_utc_and_resume_follows_real_time() -> None:
    clock = SimClock(dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-5))))
    assert clock.now() == dt.datetime(2026, 1, 1, 17, tzinfo=dt.UTC)
    clock.resume()
    assert abs(clock.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
