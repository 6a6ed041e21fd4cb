"""The change stream on fakes: a durable cursor polled with an overlap, page by page, across invocations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from ml_connector.domain.sage import Page, SageVendor
from ml_connector.stages.change_stream import record_stamp, run_change_stream
from ml_connector.stages.context import StageContext
from ml_connector.state.models import Cursor
from tests.unit.builders import CUSTOMER, Company, company, out_of_time, sage_vendor, unreadable

STREAM = "vendors"
Stop = Callable[[Page[SageVendor]], frozenset[str] | None]
PASS_START = dt.datetime(2026, 12, 1, 9, 0)
LATER = dt.datetime(2026, 12, 1, 9, 45)


@dataclass
class Feed:
    """An agent list of fixed pages (cursor ``"n"`` is page n); records every poll and every page it hands over."""

    pages: list[Page[SageVendor]]
    polls: list[tuple[dt.datetime | None, str | None]] = field(default_factory=list)
    handled: list[tuple[int, frozenset[str]]] = field(default_factory=list)
    """(page number, the stamps the stream said were finished) of every page handed to the stage."""

    @classmethod
    def of(cls, *pages: list[SageVendor]) -> Feed:
        last = len(pages) - 1
        return cls(
            [Page[SageVendor](items=p, next_cursor=None if n == last else str(n + 1)) for n, p in enumerate(pages)]
        )

    def fetch(self, since: dt.datetime | None, cursor: str | None) -> Page[SageVendor]:
        self.polls.append((since, cursor))
        return self.pages[int(cursor or 0)]

    def handler(self, stop: Stop) -> Callable[[Page[SageVendor], frozenset[str]], frozenset[str] | None]:
        def handle(page: Page[SageVendor], finished: frozenset[str]) -> frozenset[str] | None:
            self.handled.append((self.pages.index(page), finished))
            return stop(page)

        return handle


def run(ctx: StageContext, feed: Feed, agent_now: dt.datetime = PASS_START, stop: Stop = lambda page: None) -> bool:
    """One invocation's work on the stream; ``stop`` answers for each page what the stage's handler would."""
    return run_change_stream(ctx, STREAM, feed.fetch, feed.handler(stop), agent_now=agent_now)


def cursor(systems: Company) -> Cursor:
    return systems.state.get_cursor(CUSTOMER, STREAM)


def vendors(*numbers: str) -> list[SageVendor]:
    return [sage_vendor(n) for n in numbers]


def test_a_first_pass_polls_everything_page_by_page_and_ends_at_the_agents_clock() -> None:
    systems, feed = company(), Feed.of(vendors("A", "B"), vendors("C"))

    assert run(systems.context(), feed)

    assert feed.polls == [(None, None), (None, "1")]
    assert [n for n, _ in feed.handled] == [0, 1]
    done = cursor(systems)
    assert (done.watermark, done.in_pass, done.page_cursor, done.page_done) == (PASS_START, False, None, [])


@pytest.mark.parametrize("overlap", [pytest.param(0, id="no-overlap"), 10, 90])
def test_the_next_pass_polls_from_the_watermark_less_the_overlap(overlap: int) -> None:
    systems, feed = company(overlap_minutes=overlap), Feed.of(vendors("A"))
    run(systems.context(), feed)

    run(systems.context(), feed, agent_now=LATER)

    assert feed.polls[1] == (PASS_START - dt.timedelta(minutes=overlap), None)
    assert cursor(systems).watermark == LATER


def test_a_pass_out_of_time_resumes_at_its_next_page_and_ends_at_the_clock_of_its_start() -> None:
    systems, feed = company(), Feed.of(vendors("A"), vendors("B"), vendors("C"))
    run(systems.context(), feed)  # a first pass sets a watermark, so the next one has a since

    stopped = run(systems.context(budget=out_of_time()), feed, agent_now=LATER)
    resumed = run(systems.context(), feed, agent_now=LATER + dt.timedelta(hours=1))

    since = PASS_START - dt.timedelta(minutes=10)
    assert (stopped, resumed) == (False, True)
    assert feed.polls[3:] == [(since, None), (since, "1"), (since, "2")], "the continuation keeps the pass's since"
    assert cursor(systems).watermark == LATER, "records changed during the pass are read by the next one"


def test_a_run_out_of_time_still_handles_one_page() -> None:
    systems, feed = company(), Feed.of(vendors("A"), vendors("B"))

    assert not run(systems.context(budget=out_of_time()), feed)

    assert [n for n, _ in feed.handled] == [0]
    stopped = cursor(systems)
    assert stopped.in_pass and stopped.page_cursor == "1" and stopped.watermark is None


@pytest.mark.parametrize(("crash_on", "restart_at"), [pytest.param(0, None, id="first-page"), (1, "1")])
def test_a_page_not_handled_to_the_end_is_read_again(crash_on: int, restart_at: str | None) -> None:
    systems, feed = company(), Feed.of(vendors("A"), vendors("B"), vendors("C"))

    def crash(page: Page[SageVendor]) -> None:
        if feed.pages.index(page) == crash_on:
            raise RuntimeError("the worker died mid-page")

    with pytest.raises(RuntimeError):
        run(systems.context(), feed, stop=crash)
    run(systems.context(), feed, agent_now=LATER)

    assert feed.polls[crash_on + 1] == (None, restart_at)
    assert cursor(systems).watermark == PASS_START, "still the pass that started before the crash"


def test_a_page_stopped_midway_is_read_again_with_its_finished_records_named() -> None:
    systems, feed = company(), Feed.of(vendors("A", "B", "C"), vendors("D"))
    first = record_stamp(feed.pages[0].items[0])

    stopped = run(systems.context(), feed, stop=lambda page: frozenset({first}))
    assert not stopped
    assert (cursor(systems).page_cursor, cursor(systems).page_done) == (None, [first])

    assert run(systems.context(), feed, agent_now=LATER)

    assert feed.handled == [(0, frozenset()), (0, frozenset({first})), (1, frozenset())]
    assert cursor(systems).page_done == []


def test_unreadable_records_reach_the_stage_with_their_page() -> None:
    page = Page[SageVendor](items=vendors("A"), next_cursor=None, invalid=[unreadable("01-BAD")])
    systems, feed = company(), Feed([page])
    seen: list[Page[SageVendor]] = []

    def keep(page: Page[SageVendor]) -> None:
        seen.append(page)

    run(systems.context(), feed, stop=keep)

    assert [p.invalid for p in seen] == [[unreadable("01-BAD")]]


@pytest.mark.parametrize(
    ("again", "same"),
    [
        pytest.param(sage_vendor("A"), True, id="read-again"),
        pytest.param(sage_vendor("A", name="Renamed"), True, id="other-content-same-write-time"),
        pytest.param(sage_vendor("A", updated="20261102"), False, id="written-again-in-sage"),
    ],
)
def test_a_records_stamp_is_its_key_and_when_sage_last_wrote_it(again: SageVendor, same: bool) -> None:
    stamp = record_stamp(sage_vendor("A"))
    assert stamp == "01-A@2026-11-01T09:30:00"
    assert (record_stamp(again) == stamp) is same
