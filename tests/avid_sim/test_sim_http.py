"""The controls over HTTP, as the demo or an operator drives them from another process."""

from __future__ import annotations

from typing import Any

import httpx

from avid_sim.testing import RunningAvid

from .conftest import create_invoice, error_detail, seed_reference_data


def approved_invoice(client: httpx.Client, number: str = "1") -> str:
    invoice_id = str(create_invoice(client, number=number)["Id"])
    assert client.post(f"/_sim/invoices/{invoice_id}/start-approval").json()["Status"] == "InApproval"
    assert client.post(f"/_sim/invoices/{invoice_id}/approve").json()["Status"] == "Approved"
    return invoice_id


def test_approve_pay_clear_and_void_over_http(client: httpx.Client, avid: RunningAvid) -> None:
    seed_reference_data(client)
    first, second = approved_invoice(client, "1"), approved_invoice(client, "2")
    response = client.post(
        "/_sim/payments",
        json={"Method": "ACH", "Invoices": [{"InvoiceId": first}, {"InvoiceId": second, "Amount": "100.00"}]},
    )
    assert response.status_code == 201, response.text
    payment = response.json()
    assert payment["Amount"] == "1350.00"
    assert payment["PaymentMethod"]["Description"] == "ACH"
    cleared = client.post(f"/_sim/payments/{payment['PaymentId']}/status", json={"Status": "Cleared"}).json()
    assert cleared["Status"] == {"Id": 4, "Description": "Cleared"}
    refused = client.post(f"/_sim/payments/{payment['PaymentId']}/void")
    assert refused.status_code == 409
    assert "cannot become Void" in error_detail(refused)


def test_void_and_reject_over_http(client: httpx.Client) -> None:
    seed_reference_data(client)
    invoice_id = approved_invoice(client)
    payment = client.post("/_sim/payments", json={"Invoices": [{"InvoiceId": invoice_id}]}).json()
    assert payment["PaymentMethod"]["Description"] == "Check"
    assert client.post(f"/_sim/payments/{payment['PaymentId']}/void").json()["Status"]["Description"] == "Void"
    other = str(create_invoice(client, number="9")["Id"])
    assert client.post(f"/_sim/invoices/{other}/reject").json()["Status"] == "Rejected"
    assert client.post(f"/_sim/invoices/{other}/explode").status_code == 404


def test_bad_control_requests_are_422(client: httpx.Client) -> None:
    seed_reference_data(client)
    invoice_id = approved_invoice(client)
    bodies: list[dict[str, Any]] = [
        {"Invoices": []},
        {"Invoices": [{"InvoiceId": invoice_id}], "Method": "Cash"},
        {"Invoices": [{"InvoiceId": invoice_id}], "Status": "Void"},
    ]
    for body in bodies:
        assert client.post("/_sim/payments", json=body).status_code == 422, body
    assert client.post("/_sim/faults", json={"Kind": "explode", "NextCalls": 1}).status_code == 422
    assert client.post("/_sim/faults", json={"Kind": "drop"}).status_code == 422
    assert client.post("/_sim/faults", json={"Kind": "drop", "NextCalls": 1, "Method": "GET"}).status_code == 422


def test_faults_latency_and_clock_over_http(client: httpx.Client, avid: RunningAvid) -> None:
    rule = {"Kind": "rate_limit", "NextCalls": 1, "Method": "GET", "Path": "/v1/company", "RetryAfter": 7}
    assert client.post("/_sim/faults", json=rule).status_code == 201
    limited = client.get("/v1/company")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")
    assert client.post("/_sim/faults", json={"Kind": "server_error", "Share": 1.0}).status_code == 201
    assert client.get("/v1/company").status_code == 503
    assert client.delete("/_sim/faults").status_code == 200
    assert client.get("/v1/company").status_code == 200
    assert client.put("/_sim/latency", json={"Seconds": 0.0}).status_code == 200
    now = client.put("/_sim/clock", json={"Now": "2026-11-20T14:02:11Z", "AdvanceSeconds": 60}).json()["Now"]
    assert now == "2026-11-20T14:03:11Z"
    assert avid.clock.now().isoformat() == "2026-11-20T14:03:11+00:00"
    client.put("/_sim/clock", json={"Resume": True})
    assert avid.clock.now().year >= 2026
