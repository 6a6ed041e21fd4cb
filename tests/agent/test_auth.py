"""X-Agent-Key over real HTTPS: missing or wrong keys get 401 with the contract's body, before anything else."""

from __future__ import annotations

import httpx
import pytest

from sage_agent.auth import AgentKeys, hash_agent_key
from sage_agent.testing import RunningAgent
from tests.agent.conftest import company_client, tls_context

UNAUTHORIZED = {"code": "unauthorized", "retryable": False}


@pytest.mark.parametrize("key", [None, "", "wrong-key", "test-agent-key2", "TEST-AGENT-KEY"])
def test_missing_or_wrong_key_is_401(agent: RunningAgent, key: str | None) -> None:
    headers = {} if key is None else {"X-Agent-Key": key}
    response = httpx.get(f"{agent.url}/v1/companies/RCC/vendors", headers=headers, verify=tls_context(agent))
    assert response.status_code == 401
    body = response.json()
    assert body["error"].items() >= UNAUTHORIZED.items()
    assert "X-Agent-Key" in body["error"]["message"]


def test_key_is_checked_before_the_body_is_read(agent: RunningAgent) -> None:
    with company_client(agent, key="wrong") as http:
        response = http.post("/ap/payments", content=b"{not json")
    assert response.status_code == 401


def test_unknown_routes_also_need_the_key(agent: RunningAgent) -> None:
    with company_client(agent, key="wrong") as http:
        assert http.get("/nothing-here").status_code == 401


def test_right_key_is_accepted(client: httpx.Client) -> None:
    assert client.get("/ping").status_code == 200


def test_openapi_document_is_public(agent: RunningAgent) -> None:
    response = httpx.get(f"{agent.url}/openapi.json", verify=tls_context(agent))
    assert response.status_code == 200
    assert response.json()["components"]["securitySchemes"]["AgentKey"]["name"] == "X-Agent-Key"


def test_any_configured_key_is_accepted_and_only_those() -> None:
    keys = AgentKeys([hash_agent_key("first-key-0123456789"), hash_agent_key("second-key-0123456789")])
    assert keys.accepts("first-key-0123456789")
    assert keys.accepts("second-key-0123456789")
    assert not keys.accepts("third-key-0123456789")
    assert not keys.accepts(None)
