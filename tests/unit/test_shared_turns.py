"""One customer's AvidConnect calls on one schedule across invocations: the schedule (in memory and on DynamoDB in
process) and each invocation's turns on it, on a fake clock shared by the invocations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import boto3
import pytest
from moto import mock_aws

from ml_connector.adapters.pacing import TooLongToWait
from ml_connector.adapters.shared_turns import SharedTurns
from ml_connector.ports import CallSchedule
from ml_connector.state.call_schedule import DynamoCallSchedule
from ml_connector.state.dynamodb import DynamoStateStore
from tests.fakes import FakeCallSchedule
from tests.support.moto_tables import keyed_table

RATE = 25.0
INTERVAL = 1 / RATE
START = 1_800_000_000.0


@dataclass
class SharedClock:
    """One clock for every invocation; a sleep moves it, and each call sent is stamped with its time."""

    now: float = START
    sent: list[tuple[str, float]] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def send(self, turns: SharedTurns, who: str) -> None:
        turns.wait()
        self.sent.append((who, self.now))


def turns_on(schedule: CallSchedule, clock: SharedClock, customer_id: str = "c") -> SharedTurns:
    return SharedTurns(schedule, customer_id, RATE, block_seconds=2.0, clock=clock.clock, sleep=clock.sleep)


def most_in_any_second(times: list[float]) -> int:
    ordered = sorted(times)
    return max(sum(1 for t in ordered if start <= t < start + 1.0 - 1e-9) for start in ordered)


@pytest.fixture(params=["memory", "dynamodb"])
def schedule(request: pytest.FixtureRequest) -> Iterator[CallSchedule]:
    if request.param == "memory":
        yield FakeCallSchedule()
        return
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        keyed_table(dynamodb, "state")
        yield DynamoCallSchedule("state", dynamodb=dynamodb)


def test_a_claim_starts_now_on_an_idle_schedule_and_queues_behind_turns_already_reserved(
    schedule: CallSchedule,
) -> None:
    assert schedule.claim("c", 4, INTERVAL, START) == START
    assert schedule.claim("c", 2, INTERVAL, START + 0.05) == pytest.approx(START + 0.16)
    assert schedule.claim("other", 3, INTERVAL, START + 0.05) == START + 0.05, "each customer has its own"
    assert schedule.claim("c", 1, INTERVAL, START + 0.30) == START + 0.30, "past the last turn, idle again"


def test_the_schedule_is_kept_beside_the_state_and_expires_when_unused() -> None:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        keyed_table(dynamodb, "state")
        DynamoCallSchedule("state", dynamodb=dynamodb).claim("c", 2, INTERVAL, START)
        item = dynamodb.Table("state").get_item(Key={"pk": "C#c", "sk": "CALLS#avid"})["Item"]
        assert float(item["free_at"]) == pytest.approx(START + 0.08)
        assert int(item["expires_at"]) == START + 86_400
        store = DynamoStateStore("state", audit_retention=dt.timedelta(days=1), dynamodb=dynamodb)
        assert store.list_runs("c") == [], "not mistaken for a stage run of the customer"


def test_alone_an_invocation_sends_at_the_rate_claiming_doubling_blocks_up_to_two_seconds_of_turns() -> None:
    schedule, clock = FakeCallSchedule(), SharedClock()
    turns = turns_on(schedule, clock)

    for _ in range(100):
        clock.send(turns, "a")

    times = [t for _, t in clock.sent]
    assert times[-1] - times[0] == pytest.approx(99 * INTERVAL)
    assert schedule.claims == [1, 2, 4, 8, 16, 32, 50]


@pytest.mark.parametrize(
    "order",
    [
        pytest.param("ab" * 60, id="alternating"),
        pytest.param("a" * 70 + "b" * 3 + "a" * 30, id="a-short-run-inside-a-long-one"),
        pytest.param("aab" * 40, id="two-to-one"),
    ],
)
def test_invocations_sharing_a_schedule_never_send_more_than_the_rate_together(
    schedule: CallSchedule, order: str
) -> None:
    clock = SharedClock()
    invocations = {who: turns_on(schedule, clock) for who in set(order)}

    for who in order:
        clock.send(invocations[who], who)

    assert most_in_any_second([t for _, t in clock.sent]) <= RATE + 1
    assert len(clock.sent) == len(order)


def test_a_short_run_beside_a_long_one_waits_at_most_one_block_and_takes_only_its_turns() -> None:
    schedule, clock = FakeCallSchedule(), SharedClock()
    long_run, short_run = turns_on(schedule, clock), turns_on(schedule, clock)
    for _ in range(70):
        clock.send(long_run, "long")

    began = clock.now
    for _ in range(3):
        clock.send(short_run, "short")

    assert clock.now - began <= 2.0 + 3 * INTERVAL
    assert schedule.claims[-2:] == [1, 2], "it claims what it uses"


def test_turns_gone_by_unused_are_never_sent_on_late_and_the_next_claim_is_smaller() -> None:
    schedule, clock = FakeCallSchedule(), SharedClock()
    turns = turns_on(schedule, clock)
    for _ in range(4):  # blocks of 1, 2, then the first turn of a block of 4
        clock.send(turns, "a")

    clock.now += 1.0  # paused (a Retry-After) with three turns of the block unused
    clock.send(turns, "a")

    assert clock.sent[-1][1] == clock.now, "sent at once on a new claim, not on an old turn"
    assert schedule.claims == [1, 2, 4, 4]


def test_a_turn_further_away_than_the_caller_waits_is_refused_and_given_back() -> None:
    schedule, clock = FakeCallSchedule(), SharedClock()
    schedule.claim("c", 750, INTERVAL, START)  # another invocation holds the next 30 seconds
    turns = turns_on(schedule, clock)

    with pytest.raises(TooLongToWait) as refused:
        turns.wait(max_wait=5.0)
    assert refused.value.wait == pytest.approx(30.0)

    turns.wait()
    assert clock.now == pytest.approx(START + 30.0), "the turn refused is the one taken next"
    assert schedule.claims == [750, 1]


@pytest.mark.parametrize("rate", [0.0, -1.0, float("nan"), float("inf")])
def test_a_rate_that_is_not_a_positive_number_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        SharedTurns(FakeCallSchedule(), "c", rate)
