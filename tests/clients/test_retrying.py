from __future__ import annotations

import email.utils
import logging
from collections.abc import Callable

import pytest

from ml_connector.adapters.backoff import BackoffPolicy, TransientFailure, parse_retry_after
from ml_connector.errors import AgentOffline, RecordRejected, RetryLater

from .conftest import FakeTime

LOG = logging.getLogger("test.retrying")


def failing(times: int, failure: Callable[[], Exception], result: str = "done") -> Callable[[], str]:
    calls = {"n": 0}

    def attempt() -> str:
        calls["n"] += 1
        if calls["n"] <= times:
            raise failure()
        return result

    return attempt


def run(policy: BackoffPolicy, attempt: Callable[[], str]) -> str:
    return policy.run(attempt, what="test call", logger=LOG, scrub=lambda s: s)


def test_succeeds_after_transient_failures_with_growing_full_jitter(
    policy_for: Callable[..., BackoffPolicy], fake_time: FakeTime
) -> None:
    policy = policy_for(base_delay=1.0, max_delay=100.0, max_attempts=5)
    assert run(policy, failing(3, lambda: TransientFailure(RetryLater("busy")))) == "done"
    # jitter fixed at 0.5 of the ceiling: ceilings 1, 2, 4
    assert fake_time.sleeps == [0.5, 1.0, 2.0]


def test_full_jitter_stays_within_zero_and_the_capped_ceiling() -> None:
    low = BackoffPolicy(base_delay=1.0, max_delay=8.0, jitter=lambda: 0.0)
    high = BackoffPolicy(base_delay=1.0, max_delay=8.0, jitter=lambda: 0.999)
    assert [low.delay(n, None) for n in (1, 5, 10)] == [0.0, 0.0, 0.0]
    assert [round(high.delay(n, None), 2) for n in (1, 2, 3, 4, 5, 10)] == [1.0, 2.0, 4.0, 7.99, 7.99, 7.99]


def test_retry_after_is_a_floor_for_the_wait(policy_for: Callable[..., BackoffPolicy], fake_time: FakeTime) -> None:
    policy = policy_for(base_delay=0.1)
    run(policy, failing(1, lambda: TransientFailure(RetryLater("locked"), retry_after=7.0)))
    assert fake_time.sleeps == [7.0]


def test_gives_up_after_max_attempts_with_the_give_up_error(
    policy_for: Callable[..., BackoffPolicy], fake_time: FakeTime
) -> None:
    policy = policy_for(max_attempts=3)
    with pytest.raises(AgentOffline, match="unreachable"):
        run(policy, failing(10, lambda: TransientFailure(AgentOffline("unreachable"))))
    assert len(fake_time.sleeps) == 2


def test_server_errors_get_fewer_attempts(policy_for: Callable[..., BackoffPolicy], fake_time: FakeTime) -> None:
    policy = policy_for(max_attempts=6, server_error_attempts=2)
    with pytest.raises(RetryLater):
        run(policy, failing(10, lambda: TransientFailure(RetryLater("boom"), server_error=True)))
    assert len(fake_time.sleeps) == 1


def test_total_wait_is_bounded_even_when_the_server_asks_for_more(
    policy_for: Callable[..., BackoffPolicy], fake_time: FakeTime
) -> None:
    policy = policy_for(max_total_wait=10.0, max_attempts=50)
    with pytest.raises(RetryLater) as caught:
        run(policy, failing(50, lambda: TransientFailure(RetryLater("slow", retry_after=4.0), retry_after=4.0)))
    assert fake_time.sleeps == [4.0, 4.0]
    assert caught.value.retry_after == 4.0


def test_non_transient_errors_are_not_retried(policy_for: Callable[..., BackoffPolicy], fake_time: FakeTime) -> None:
    with pytest.raises(RecordRejected):
        run(policy_for(), failing(1, lambda: RecordRejected("bad")))
    assert fake_time.sleeps == []


def test_each_retry_and_the_give_up_are_logged_scrubbed(
    policy_for: Callable[..., BackoffPolicy], caplog: pytest.LogCaptureFixture
) -> None:
    policy = policy_for(max_attempts=2)
    with caplog.at_level(logging.WARNING), pytest.raises(RetryLater):
        policy.run(
            failing(5, lambda: TransientFailure(RetryLater("secret-xyz busy"))),
            what="vendors page",
            logger=LOG,
            scrub=lambda s: s.replace("secret-xyz", "***"),
        )
    assert [r.getMessage() for r in caplog.records] == [
        "vendors page: attempt 1/2 failed (*** busy); retrying in 0.25s",
        "vendors page: giving up after 2 attempt(s): *** busy",
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("", None), ("7", 7.0), (" 12 ", 12.0), ("soon", None), ("-3", None)],
)
def test_parse_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_800_000_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(header, now=now) == 30.0
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
