"""Fault controls: only when enabled, from Python and over HTTP; latency, shares and next-N failures."""

from __future__ import annotations

import random

import httpx
import pytest

from sage_agent.backend import BackendFailure, Busy, RecordLocked
from sage_agent.faults import FaultController, FaultSettings
from sage_agent.testing import RunningAgent
from tests.agent.conftest import company_client, tls_context


def test_fail_next_answers_the_chosen_status_n_times_then_recovers(
    client: httpx.Client, faults: FaultController
) -> None:
    faults.fail_next("vendors", 2, status=503)
    first, second, third = (client.get("/vendors", params={"limit": 1}) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.json()["error"] == {
        "code": "busy",
        "message": "all BOI sessions are in use (injected fault on vendors)",
        "retryable": True,
    }
    assert first.headers["retry-after"] == "1"
    assert client.get("/ping").status_code == 200, "other endpoints are not affected"


@pytest.mark.parametrize(("status", "code"), [(423, "record_locked"), (500, "boi_error"), (503, "busy")])
def test_every_injected_status_has_the_contract_body(
    client: httpx.Client, faults: FaultController, status: int, code: str
) -> None:
    faults.fail_next("*", 1, status=status)  # type: ignore[arg-type]
    response = client.get("/gl/segments")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["retryable"] is True
    assert ("retry-after" in response.headers) == (status != 500)


def test_a_share_of_one_fails_every_call(client: httpx.Client, faults: FaultController) -> None:
    faults.set_failure_shares(locked=1.0, retry_after=7)
    responses = [client.get("/ping") for _ in range(5)]
    assert {r.status_code for r in responses} == {423}
    assert {r.headers["retry-after"] for r in responses} == {"7"}


def test_shares_split_failures_between_statuses() -> None:
    controller = FaultController(rng=random.Random(7), sleep=lambda _s: None)
    controller.set_failure_shares(locked=0.2, busy=0.2, error=0.2)
    outcomes: dict[str, int] = {}
    for _ in range(2000):
        try:
            controller.before_call("ping")
            outcome = "ok"
        except (RecordLocked, Busy, BackendFailure) as error:
            outcome = type(error).__name__
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert set(outcomes) == {"ok", "RecordLocked", "Busy", "BackendFailure"}
    assert 650 < outcomes["ok"] < 950


def test_latency_sleeps_before_each_call() -> None:
    slept: list[float] = []
    controller = FaultController(sleep=slept.append)
    controller.set_latency(0.25)
    controller.before_call("vendors")
    controller.before_call("ping")
    assert slept == [0.25, 0.25]


def test_unknown_endpoint_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown endpoint 'vendorz'"):
        FaultController().fail_next("vendorz", 1)


def test_faults_over_http_need_the_key_and_can_be_cleared(agent: RunningAgent, faults: FaultController) -> None:
    url = f"{agent.url}/v1/_faults"
    settings = {"latency_seconds": 0.01, "fail_next": [{"endpoint": "ping", "count": 1, "status": 500}]}
    assert httpx.put(url, json=settings, verify=tls_context(agent)).status_code == 401
    headers = {"X-Agent-Key": agent.agent_key}
    applied = httpx.put(url, json=settings, headers=headers, verify=tls_context(agent))
    assert applied.status_code == 200
    assert FaultSettings.model_validate(applied.json()).fail_next[0].endpoint == "ping"
    with company_client(agent) as http:
        assert http.get("/ping").status_code == 500
        assert http.get("/ping").status_code == 200
    assert httpx.delete(url, headers=headers, verify=tls_context(agent)).status_code == 204
    assert faults.settings() == FaultSettings()
    bad = httpx.put(
        url, json={"fail_next": [{"endpoint": "nope", "count": 1}]}, headers=headers, verify=tls_context(agent)
    )
    assert bad.status_code == 400


def test_fault_route_does_not_exist_when_faults_are_disabled(quiet_agent: RunningAgent) -> None:
    headers = {"X-Agent-Key": quiet_agent.agent_key}
    response = httpx.put(f"{quiet_agent.url}/v1/_faults", json={}, headers=headers, verify=tls_context(quiet_agent))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_such_endpoint"
    quiet_agent.faults.fail_next("ping", 1, status=500)
    with company_client(quiet_agent) as http:
        assert http.get("/ping").status_code == 200, "a controller that is not wired in changes nothing"
