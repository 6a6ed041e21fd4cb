"""The client-side token bucket on fake clocks: rate, burst, Retry-After pauses shared by threads, AIMD."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from pydantic import ValidationError

from avid_sim.rate_limit import RateLimit, TokenBucket
from ml_connector.adapters.pacing import Pacer, TooLongToWait
from ml_connector.connections import AvidConnection

from .conftest import FakeTime


@dataclass
class StillTime:
    """A clock that stands still while threads 'sleep': each wait is recorded, so the turns handed out to threads
    asking together can be compared, whatever order the threads ran in."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)


def paced(rate: float, burst: int, time: FakeTime | StillTime, **options: float) -> Pacer:
    return Pacer(rate, burst, clock=time.clock, sleep=time.sleep, **options)


def test_the_burst_goes_at_once_then_one_call_every_1_over_rate(fake_time: FakeTime) -> None:
    pacer = paced(10, 3, fake_time)
    for _ in range(6):
        pacer.acquire()
    assert fake_time.sleeps == pytest.approx([0.1, 0.1, 0.1])


def test_idle_time_refills_the_bucket_up_to_the_burst_only(fake_time: FakeTime) -> None:
    pacer = paced(10, 3, fake_time)
    for _ in range(3):
        pacer.acquire()
    fake_time.now += 3600
    for _ in range(5):
        pacer.acquire()
    assert fake_time.sleeps == pytest.approx([0.1, 0.1])


def test_the_long_run_pace_is_the_rate(fake_time: FakeTime) -> None:
    pacer = paced(20, 1, fake_time)
    started = fake_time.now
    for _ in range(101):
        pacer.acquire()
    assert fake_time.now - started == pytest.approx(5.0)


def test_turns_taken_by_many_threads_at_once_are_all_distinct() -> None:
    still = StillTime()
    pacer = paced(10, 5, still)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: pacer.acquire(), range(100)))
    # 5 at once, then every 0.1 s: no two threads were given the same turn, none was lost.
    assert sorted(still.sleeps) == pytest.approx([n / 10 for n in range(1, 96)])


def test_a_retry_after_pauses_every_thread_then_they_go_one_by_one_at_the_lower_rate() -> None:
    still = StillTime()
    pacer = paced(20, 5, still)
    pacer.throttled(pacer.acquire(), retry_after=2.0)
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda _: pacer.acquire(), range(3)))
    assert pacer.rate == pytest.approx(14.0)
    assert sorted(still.sleeps) == pytest.approx([2 + n / 14 for n in (1, 2, 3)]), "no burst right after a pause"


def test_a_thread_already_waiting_for_its_turn_waits_out_a_pause_that_starts_meanwhile() -> None:
    now = [1000.0]
    waiting, paused = threading.Event(), threading.Event()
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            waiting.set()
            assert paused.wait(10)
        now[0] += seconds

    pacer = Pacer(10, 1, clock=lambda: now[0], sleep=sleep)
    first = pacer.acquire()
    with ThreadPoolExecutor(1) as pool:
        second = pool.submit(pacer.acquire)
        assert waiting.wait(10)  # the second call waits for its turn, 0.1 s away
        pacer.throttled(first, retry_after=3.0)
        paused.set()
        second.result(10)
    # Woken at 1000.1, the turn is void: it waits until 1003, plus one turn at the lower rate (7/s).
    assert sleeps == pytest.approx([0.1, 2.9 + 1 / 7])


def test_a_429_slows_down_once_for_all_the_calls_sent_on_the_same_schedule(fake_time: FakeTime) -> None:
    pacer = paced(20, 5, fake_time)
    in_flight = [pacer.acquire() for _ in range(4)]
    for permit in in_flight:
        pacer.throttled(permit, retry_after=None)
    assert pacer.rate == pytest.approx(14.0)
    pacer.throttled(pacer.acquire(), retry_after=None)
    assert pacer.rate == pytest.approx(9.8), "a call sent at the lower rate and still refused slows it again"


def test_the_rate_never_drops_below_the_floor(fake_time: FakeTime) -> None:
    pacer = paced(20, 1, fake_time, min_rate=3.0)
    for _ in range(8):
        pacer.throttled(pacer.acquire(), retry_after=None)
    assert pacer.rate == 3.0


def test_successes_win_the_rate_back_additively_up_to_the_configured_rate(fake_time: FakeTime) -> None:
    pacer = paced(20, 1, fake_time, increase=1.0)
    pacer.throttled(pacer.acquire(), retry_after=None)
    for _ in range(4):
        pacer.succeeded()
    assert pacer.rate == pytest.approx(18.0)
    for _ in range(20):
        pacer.succeeded()
    assert pacer.rate == 20.0


def test_successes_from_many_threads_are_all_counted() -> None:
    pacer = paced(100, 1, StillTime(), increase=0.01)
    pacer.throttled(pacer.acquire(), retry_after=None)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: pacer.succeeded(), range(2000)))
    assert pacer.rate == pytest.approx(90.0)


def test_a_later_retry_after_for_an_older_call_extends_the_pause_without_slowing_down(fake_time: FakeTime) -> None:
    pacer = paced(10, 5, fake_time)
    older, newer = pacer.acquire(), pacer.acquire()
    pacer.throttled(newer, retry_after=1.0)
    pacer.throttled(older, retry_after=4.0)
    pacer.acquire()
    assert pacer.rate == pytest.approx(7.0)
    assert fake_time.sleeps == pytest.approx([4 + 1 / 7])


def test_a_503_pause_keeps_the_rate(fake_time: FakeTime) -> None:
    pacer = paced(10, 5, fake_time)
    pacer.pause(2.0)
    pacer.acquire()
    assert pacer.rate == 10.0
    assert fake_time.sleeps == pytest.approx([2.1])


def test_a_turn_further_away_than_the_caller_waits_is_refused_and_not_taken(fake_time: FakeTime) -> None:
    pacer = paced(10, 5, fake_time)
    pacer.pause(30.0)
    with pytest.raises(TooLongToWait) as refused:
        pacer.acquire(max_wait=5.0)
    assert refused.value.wait == pytest.approx(30.1)
    pacer.acquire()
    assert fake_time.sleeps == pytest.approx([30.1])


def test_the_client_settles_under_a_lower_server_limit(fake_time: FakeTime) -> None:
    """Configured at 25/s against a server allowing 8/s (burst 5): a 429 now and then, not one call in three."""
    server = TokenBucket(RateLimit(8, burst=5), now=fake_time.now)
    pacer = paced(25, 5, fake_time)
    refused = 0
    started = fake_time.now
    for _ in range(5000):
        permit = pacer.acquire()
        retry_after = server.take(now=fake_time.now)
        if retry_after is None:
            pacer.succeeded()
        else:
            refused += 1
            pacer.throttled(permit, retry_after=float(retry_after))
            fake_time.sleep(retry_after)  # the retry policy's own wait
    assert refused < 0.02 * 5000
    assert (5000 - refused) / (fake_time.now - started) > 0.8 * 8, "throughput stays close to the server's limit"


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (float("nan"), 1), (float("inf"), 1), (5, 0)])
def test_bad_settings_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        Pacer(rate, burst)


def test_a_customer_is_paced_at_25_per_second_unless_configured_otherwise() -> None:
    default = AvidConnection(base_url="https://avid.test")
    assert (default.requests_per_second, default.request_burst) == (25.0, 5)
    for bad in ({"requests_per_second": 0}, {"requests_per_second": float("inf")}, {"request_burst": 0}):
        with pytest.raises(ValidationError):
            AvidConnection.model_validate({"base_url": "https://avid.test", **bad})
