"""Company routing, unknown routes and records, and the OpenAPI document's error declarations."""

from __future__ import annotations

import httpx
import pytest

from sage_agent.testing import RunningAgent
from tests.agent.conftest import company_client, tls_context


@pytest.mark.parametrize("path", ["/ping", "/vendors", "/ap/invoices/01/ACME/10045", "/ap/payments/A/1"])
def test_a_company_the_agent_does_not_serve_is_404_company_not_found(agent: RunningAgent, path: str) -> None:
    response = httpx.get(
        f"{agent.url}/v1/companies/XYZ{path}", headers={"X-Agent-Key": agent.agent_key}, verify=tls_context(agent)
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "company_not_found"
    assert "RCC" in response.json()["error"]["message"]


def test_malformed_company_code_is_400(agent: RunningAgent) -> None:
    response = httpx.get(
        f"{agent.url}/v1/companies/rcc/ping", headers={"X-Agent-Key": agent.agent_key}, verify=tls_context(agent)
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    "path", ["/ap/invoices/01/ACME/NOPE", "/ap/invoices/01/NOBODY/1/image", "/ap/payments/A/404404"]
)
def test_unknown_records_are_404_not_found(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_unknown_routes_and_methods_have_the_error_body(client: httpx.Client) -> None:
    missing = client.get("/no/such/thing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "no_such_endpoint"
    wrong_method = client.delete("/vendors")
    assert wrong_method.status_code == 405
    assert set(wrong_method.json()["error"]) == {"code", "message", "retryable"}


def test_openapi_declares_the_error_body_for_every_operation(agent: RunningAgent) -> None:
    document = httpx.get(f"{agent.url}/openapi.json", verify=tls_context(agent)).json()
    assert not any("_faults" in path for path in document["paths"])
    operations = [op for path in document["paths"].values() for op in path.values()]
    assert len(operations) == 14
    for operation in operations:
        for status in ("400", "401", "404", "423", "500", "503"):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    post = document["paths"]["/v1/companies/{company}/ap/payments"]["post"]
    assert {"201", "409", "422"} <= set(post["responses"])
    assert "Retry-After" in post["responses"]["423"]["headers"]


def test_an_unexpected_failure_is_500_boi_error_with_the_contract_body(
    agent: RunningAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("COM object went away")

    monkeypatch.setattr(agent.backend, "gl_segments", broken)
    # A client of its own: the server closes the connection after an unhandled error, and the session's pooled
    # client could send the next test's request down it before it sees the close.
    with company_client(agent) as own:
        response = own.get("/gl/segments")
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "boi_error",
            "message": "unexpected agent failure: RuntimeError: COM object went away",
            "retryable": True,
        }
    }
