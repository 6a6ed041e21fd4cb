"""AvidXchange's per-company rate limit: a token bucket over every /v1 call, refused with 429 and Retry-After.

The bucket runs on a ``ManualMonotonic`` that only these tests move, so nothing here depends on machine speed."""

from __future__ import annotations

import math
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from avid_sim.__main__ import main
from avid_sim.clock import ManualMonotonic
from avid_sim.faults import FaultKind
from avid_sim.rate_limit import CallStats, RateLimit, TokenBucket
from avid_sim.testing import RunningAvid, running_avid

from .conftest import error_detail, invoice, seed_reference_data, trust, vendor

COMPANY = ("GET", "/v1/company")


@pytest.fixture(scope="module")
def monotonic() -> ManualMonotonic:
    return ManualMonotonic(start=1000.0)


@pytest.fixture(scope="module")
def avid(tmp_path_factory: pytest.TempPathFactory, monotonic: ManualMonotonic) -> Iterator[RunningAvid]:
    """This module's own simulator (overriding the session one), its rate limit on a clock moved by hand."""
    with running_avid(tmp_path_factory.mktemp("avid-rate"), monotonic=monotonic) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_rate_limit(avid: RunningAvid) -> None:
    avid.controls.set_rate_limit(None)
    avid.controls.reset_call_stats()


def statuses(client: httpx.Client, calls: int, path: str = "/v1/company") -> list[int]:
    return [client.get(path).status_code for _ in range(calls)]


def test_the_rate_limit_is_off_by_default(tmp_path: Path) -> None:
    with (
        running_avid(tmp_path) as fresh,
        httpx.Client(base_url=fresh.url, headers=fresh.headers, verify=trust(fresh)) as http,
    ):
        assert fresh.controls.rate_limiter.limit is None
        assert statuses(http, 30) == [200] * 30
        assert fresh.controls.call_stats() == CallStats(answered=30, rate_limited=0)


def test_calls_within_the_burst_and_the_rate_all_pass(
    client: httpx.Client, avid: RunningAvid, monotonic: ManualMonotonic
) -> None:
    avid.controls.set_rate_limit(10, burst=5)
    assert statuses(client, 5) == [200] * 5
    for _ in range(20):
        monotonic.advance(0.1)
        assert client.get("/v1/vendors").status_code == 200
    assert avid.controls.call_stats() == CallStats(answered=25, rate_limited=0)


def test_the_call_after_the_burst_gets_429_and_changes_nothing(
    client: httpx.Client, avid: RunningAvid, monotonic: ManualMonotonic
) -> None:
    seed_reference_data(client)
    avid.controls.set_rate_limit(0.25, burst=2)
    first = client.post("/v1/invoices", json=invoice(number="1"))
    assert first.status_code == 201
    assert client.get("/v1/company").status_code == 200

    refused = client.post("/v1/invoices", json=invoice(number="2"))
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "4"
    assert not any(name.lower().startswith("x-ratelimit") for name in refused.headers)
    assert refused.json()["exception"]["reason"] == "Too Many Requests"
    assert "retry after 4 seconds" in error_detail(refused)
    vendor_refused = client.post("/v1/vendors/batch", json={"Items": [vendor("01-LATE")]})
    assert vendor_refused.status_code == 429
    assert set(avid.state.invoices) == {first.json()["Id"]}
    assert "01-LATE" not in avid.state.vendors

    monotonic.advance(4)
    retried = client.post("/v1/invoices", json=invoice(number="2"))
    assert retried.status_code == 201
    assert retried.json()["Id"] == f"I-{int(first.json()['Id'][2:]) + 1}", "the refused create used no id"


def test_tokens_refill_with_the_clock_up_to_the_burst(
    client: httpx.Client, avid: RunningAvid, monotonic: ManualMonotonic
) -> None:
    avid.controls.set_rate_limit(2, burst=2)
    assert statuses(client, 3) == [200, 200, 429]
    monotonic.advance(0.4)
    still_empty = client.get("/v1/company")
    assert (still_empty.status_code, still_empty.headers["Retry-After"]) == (429, "1")
    monotonic.advance(0.1)
    assert statuses(client, 2) == [200, 429]
    monotonic.advance(60)
    assert statuses(client, 3) == [200, 200, 429]
    assert avid.controls.call_stats() == CallStats(answered=5, rate_limited=4)


@pytest.mark.parametrize(
    ("per_second", "elapsed", "retry_after"),
    [
        (10, 0.0, 1),  # 0.1 s to wait: at least 1
        (0.4, 0.0, 3),  # 2.5 s: rounded up
        (0.5, 0.0, 2),  # exactly 2 s
        (0.25, 1.0, 3),  # a quarter token back: 3 s more
        (0.1, 7.0, 3),  # 0.7 token back: 3 s more despite float error
    ],
)
def test_retry_after_is_whole_seconds_rounded_up_at_least_1(
    per_second: float, elapsed: float, retry_after: int
) -> None:
    bucket = TokenBucket(RateLimit(per_second, burst=1), now=0.0)
    assert bucket.take(now=0.0) is None
    assert bucket.take(now=elapsed) == retry_after
    assert bucket.take(now=elapsed + retry_after) is None


def test_a_refused_call_gets_no_latency_and_fires_no_fault(
    client: httpx.Client, avid: RunningAvid, monotonic: ManualMonotonic
) -> None:
    avid.controls.set_rate_limit(1, burst=1)
    assert client.get("/v1/vendors").status_code == 200
    avid.controls.set_latency(30, endpoint=COMPANY)
    avid.controls.inject(FaultKind.SERVER_ERROR, next_calls=1, endpoint=COMPANY)
    assert client.get("/v1/company", timeout=5).status_code == 429
    assert avid.controls.faults.fired == []
    avid.controls.set_latency(0, endpoint=COMPANY)
    monotonic.advance(1)
    assert client.get("/v1/company", timeout=5).status_code == 503


def test_set_rate_limit_defaults_the_burst_and_refuses_bad_values(avid: RunningAvid) -> None:
    assert avid.controls.set_rate_limit(2.5) == RateLimit(2.5, burst=3)
    assert avid.controls.set_rate_limit(0.2) == RateLimit(0.2, burst=1)
    assert avid.controls.rate_limiter.limit == RateLimit(0.2, burst=1)
    for per_second, burst, message in [
        (0, None, "above 0"),
        (-1, None, "above 0"),
        (math.nan, None, "above 0"),
        (math.inf, None, "above 0"),
        (5, 0, "burst must be 1 or more"),
        (None, 3, "a burst needs a rate limit"),
    ]:
        with pytest.raises(ValueError, match=message):
            avid.controls.set_rate_limit(per_second, burst)
    assert avid.controls.rate_limiter.limit == RateLimit(0.2, burst=1)


def test_rate_limit_and_stats_over_http(client: httpx.Client, avid: RunningAvid) -> None:
    answer = client.put("/_sim/rate-limit", json={"PerSecond": 1, "Burst": 2})
    assert (answer.status_code, answer.json()) == (200, {"PerSecond": 1.0, "Burst": 2})
    assert statuses(client, 3) == [200, 200, 429]
    assert client.get("/_sim/stats").json() == {"Calls": 3, "Answered": 2, "RateLimited": 1}, "/_sim is not limited"
    assert client.delete("/_sim/stats").json() == {"Calls": 0, "Answered": 0, "RateLimited": 0}
    assert avid.controls.call_stats() == CallStats(answered=0, rate_limited=0)

    for bad in ({"PerSecond": 0}, {"PerSecond": "fast"}, {"Burst": 2}, {"PerSecond": None, "Burst": 2}):
        assert client.put("/_sim/rate-limit", json=bad).status_code == 422, bad
    assert avid.controls.rate_limiter.limit == RateLimit(1, burst=2)

    off = client.put("/_sim/rate-limit", json={"PerSecond": None})
    assert off.json() == {"PerSecond": None, "Burst": None}
    assert statuses(client, 5) == [200] * 5


def test_the_cli_flags_set_the_rate_limit(tmp_path: Path) -> None:
    tokens = {"AVID_SIM_COMPANY_TOKEN": "cli-company", "AVID_SIM_USER_TOKEN": "cli-user"}
    command = [sys.executable, "-m", "avid_sim", "serve", "--port", "0", "--state-dir", str(tmp_path)]
    command += ["--rate-limit", "0.001", "--rate-burst", "2"]
    with subprocess.Popen(
        command, env={**os.environ, **tokens}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().split(" at ")[1].strip()
            tls = ssl.create_default_context(cafile=str(tmp_path / "avid-sim-cert.pem"))
            headers = {"X-Company-Token": "cli-company", "X-User-Token": "cli-user"}
            with httpx.Client(base_url=url, verify=tls, headers=headers) as http:
                answers = [http.get("/v1/company") for _ in range(3)]
                stats = http.get("/_sim/stats").json()
        finally:
            process.terminate()
            process.wait(timeout=15)
    assert [a.status_code for a in answers] == [200, 200, 429]
    # A token comes back every 1000 s: the wait is 1000 s less the real time the calls took.
    assert 900 <= int(answers[2].headers["Retry-After"]) <= 1000
    assert stats == {"Calls": 3, "Answered": 2, "RateLimited": 1}


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--rate-limit", "0"], "--rate-limit: the rate limit must be a number of calls per second above 0"),
        (["--rate-limit", "fast"], "--rate-limit: invalid float value"),
        (["--rate-limit", "5", "--rate-burst", "0"], "--rate-burst: expected a whole number of 1 or more"),
        (["--rate-burst", "3"], "--rate-burst needs --rate-limit"),
    ],
)
def test_bad_rate_limit_flags_give_one_line_and_exit_2(
    flags: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--company-token", "c", "--user-token", "u", *flags])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert expected in err
