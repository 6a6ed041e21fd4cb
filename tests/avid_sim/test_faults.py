from __future__ import annotations

import httpx
import pytest

from avid_sim.faults import Endpoint, FaultKind
from avid_sim.testing import RunningAvid

from .conftest import error_detail, invoice, seed_reference_data

COMPANY = ("GET", "/v1/company")


def test_429_with_retry_after_for_the_next_n_calls_of_one_endpoint(client: httpx.Client, avid: RunningAvid) -> None:
    avid.controls.inject(FaultKind.RATE_LIMIT, next_calls=2, endpoint=COMPANY, retry_after=3)
    assert client.get("/v1/vendors").status_code == 200
    limited = [client.get("/v1/company") for _ in range(2)]
    assert [r.status_code for r in limited] == [429, 429]
    assert limited[0].headers["Retry-After"] == "3"
    assert "retry after 3 seconds" in error_detail(limited[0])
    assert client.get("/v1/company").status_code == 200
    assert avid.controls.faults.fired == [(FaultKind.RATE_LIMIT, "GET", "/v1/company")] * 2


def test_endpoint_templates_match_whatever_the_parameter_names(client: httpx.Client, avid: RunningAvid) -> None:
    avid.controls.inject("server_error", next_calls=1, endpoint=Endpoint("GET", "/v1/invoices/{Id}"))
    assert client.get("/v1/invoices").status_code == 200
    assert client.get("/v1/invoices/I-42").status_code == 503
    assert client.get("/v1/invoices/I-42").status_code == 404


def test_5xx_bodies_echo_the_request_headers_tokens_included(client: httpx.Client, avid: RunningAvid) -> None:
    avid.controls.inject(FaultKind.SERVER_ERROR, next_calls=1, status=502)
    response = client.get("/v1/company")
    assert response.status_code == 502
    detail = error_detail(response)
    assert f"x-company-token: {avid.company_token}" in detail
    assert f"x-user-token: {avid.user_token}" in detail


def test_a_processed_5xx_changes_state_before_failing(client: httpx.Client, avid: RunningAvid) -> None:
    seed_reference_data(client)
    avid.controls.inject(FaultKind.SERVER_ERROR, next_calls=1, endpoint=("POST", "/v1/invoices"), processed=True)
    assert client.post("/v1/invoices", json=invoice()).status_code == 503
    assert len(avid.state.find_invoices("01-ACME", "10045")) == 1


@pytest.mark.parametrize("processed", [False, True])
def test_timeout_holds_the_answer_past_the_client_timeout(
    client: httpx.Client, avid: RunningAvid, processed: bool
) -> None:
    seed_reference_data(client)
    avid.controls.inject(
        FaultKind.TIMEOUT, next_calls=1, endpoint=("POST", "/v1/invoices"), hold_seconds=30, processed=processed
    )
    with pytest.raises(httpx.ReadTimeout):
        client.post("/v1/invoices", json=invoice(), timeout=0.5)
    assert len(avid.state.find_invoices("01-ACME", "10045")) == (1 if processed else 0)
    assert client.post("/v1/invoices", json=invoice(), timeout=5).status_code == 201


def test_a_short_hold_answers_504_when_the_request_was_not_processed(client: httpx.Client, avid: RunningAvid) -> None:
    avid.controls.inject(FaultKind.TIMEOUT, next_calls=1, endpoint=COMPANY, hold_seconds=0.1)
    response = client.get("/v1/company")
    assert response.status_code == 504
    assert "timed out" in error_detail(response)


@pytest.mark.parametrize("processed", [False, True])
def test_a_dropped_connection_gets_no_http_response(client: httpx.Client, avid: RunningAvid, processed: bool) -> None:
    seed_reference_data(client)
    avid.controls.inject(FaultKind.DROP, next_calls=1, endpoint=("POST", "/v1/invoices"), processed=processed)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post("/v1/invoices", json=invoice())
    assert len(avid.state.find_invoices("01-ACME", "10045")) == (1 if processed else 0)
    assert client.get("/v1/company").status_code == 200


def test_a_share_of_calls_fails_in_a_seeded_repeatable_pattern(client: httpx.Client, avid: RunningAvid) -> None:
    def pattern() -> list[int]:
        avid.controls.reset_faults(seed=99)
        avid.controls.inject(FaultKind.SERVER_ERROR, share=0.5, endpoint=COMPANY)
        return [client.get("/v1/company").status_code for _ in range(20)]

    first = pattern()
    assert first == pattern()
    assert set(first) == {200, 503}
    assert client.get("/v1/vendors").status_code == 200


def test_latency_delays_only_its_endpoint(client: httpx.Client, avid: RunningAvid) -> None:
    avid.controls.set_latency(2.0, endpoint=COMPANY)
    with pytest.raises(httpx.ReadTimeout):
        client.get("/v1/company", timeout=0.5)
    assert client.get("/v1/vendors", timeout=5).status_code == 200
    avid.controls.set_latency(0, endpoint=COMPANY)
    assert client.get("/v1/company", timeout=5).status_code == 200


def test_control_endpoints_are_never_faulted(client: httpx.Client, avid: RunningAvid) -> None:
    avid.controls.inject(FaultKind.DROP, share=1.0)
    assert client.delete("/_sim/faults").status_code == 200
    assert client.get("/v1/company").status_code == 200


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"next_calls": 1, "share": 0.5}, "exactly one of next_calls or share"),
        ({}, "exactly one of next_calls or share"),
        ({"next_calls": 0}, "next_calls must be 1 or more"),
        ({"share": 1.5}, "share must be in"),
        ({"next_calls": 1, "status": 404}, "needs a 5xx status"),
    ],
)
def test_inconsistent_fault_rules_are_refused(avid: RunningAvid, arguments: dict[str, object], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        avid.controls.inject(FaultKind.SERVER_ERROR, **arguments)  # type: ignore[arg-type]
