"""Health, ping, the GL structure, keyed invoice reads and images over HTTPS."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import httpx

from sage_agent.testing import RunningAgent
from tests.agent.conftest import InvoicePicker, tls_context


def test_health_reports_companies_and_agent_local_time(agent: RunningAgent) -> None:
    response = httpx.get(f"{agent.url}/v1/health", headers={"X-Agent-Key": agent.agent_key}, verify=tls_context(agent))
    body = response.json()
    assert response.status_code == 200
    assert body["companies"] == ["RCC"]
    assert body["server_time"] == agent.clock.now().strftime("%Y%m%dT%H:%M:%S")
    assert body["agent_version"]
    assert "Sage 100" in body["sage_version"]


def test_ping_describes_the_company(client: httpx.Client, agent: RunningAgent) -> None:
    assert client.get("/ping").json() == {
        "CompanyCode": "RCC",
        "CompanyName": "Redrock Construction Co.",
        "APDivisionsEnabled": True,
        "APModuleDate": agent.clock.now().strftime("%Y%m%d"),
        "BankCodes": ["A", "B"],
    }


def test_gl_structure_has_three_segments(client: httpx.Client) -> None:
    assert client.get("/gl/segments").json() == {
        "items": [
            {"SegmentNo": 1, "SegmentName": "Account", "Length": 4},
            {"SegmentNo": 2, "SegmentName": "Division", "Length": 2},
            {"SegmentNo": 3, "SegmentName": "Cost Center", "Length": 3},
        ]
    }


def test_gl_accounts_carry_their_segments(client: httpx.Client) -> None:
    accounts = client.get("/gl/accounts", params={"limit": 1000}).json()["items"]
    assert len(accounts) > 100
    for account in accounts:
        codes = [segment["SubAccountCode"] for segment in account["Segments"]]
        assert "-".join(codes) == account["Account"]
        assert "".join(codes) == account["AccountKey"]
        assert account["MainAccountCode"] == codes[0]


def test_segment_values_filter_by_segment(client: httpx.Client) -> None:
    values = client.get("/gl/segment-values", params={"segment_no": 3}).json()["items"]
    assert {v["SegmentNo"] for v in values} == {3}
    assert {v["SubAccountCode"] for v in values} >= {"100", "200", "300"}


def test_invoice_lines_sum_to_the_amount_and_amounts_are_strings(client: httpx.Client) -> None:
    invoices = client.get("/ap/invoices", params={"limit": 1000}).json()["items"]
    assert len(invoices) >= 300
    for invoice in invoices:
        assert isinstance(invoice["InvoiceAmt"], str)
        assert isinstance(invoice["Balance"], str)
        assert sum(Decimal(line["DistributionAmt"]) for line in invoice["Lines"]) == Decimal(invoice["InvoiceAmt"])
    assert any(Decimal(i["InvoiceAmt"]) < 0 for i in invoices), "the demo has credit memos"


def test_invoice_filters(client: httpx.Client, agent: RunningAgent) -> None:
    since = (agent.clock.now() - dt.timedelta(days=20)).strftime("%Y%m%d")
    recent = client.get("/ap/invoices", params={"limit": 1000, "invoice_date_from": since}).json()["items"]
    assert recent
    assert all(i["InvoiceDate"] >= since for i in recent)
    division = client.get("/ap/invoices", params={"limit": 1000, "division": "02"}).json()["items"]
    assert division
    assert {i["APDivisionNo"] for i in division} == {"02"}


def test_keyed_invoice_read(client: httpx.Client, invoices: InvoicePicker) -> None:
    invoice = invoices.take()
    response = client.get(f"/ap/invoices/{invoice.APDivisionNo}/{invoice.VendorNo}/{invoice.InvoiceNo}")
    assert response.status_code == 200
    assert response.json()["Balance"] == f"{invoice.Balance:.2f}"


def test_image_streams_with_type_length_and_sha256_etag(client: httpx.Client) -> None:
    invoices = client.get("/ap/invoices", params={"limit": 1000}).json()["items"]
    with_image = [i for i in invoices if i["HasImage"]]
    assert len(with_image) > len(invoices) // 2
    seen_types = set()
    for invoice in with_image[:30]:
        response = client.get(
            f"/ap/invoices/{invoice['APDivisionNo']}/{invoice['VendorNo']}/{invoice['InvoiceNo']}/image"
        )
        assert response.status_code == 200
        data = response.content
        assert response.headers["content-length"] == str(len(data))
        assert response.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
        magic = {"application/pdf": b"%PDF", "image/png": b"\x89PNG", "image/tiff": b"II*\x00"}
        content_type = response.headers["content-type"]
        assert data.startswith(magic[content_type])
        seen_types.add(content_type)
    assert len(seen_types) >= 2


def test_invoice_without_image_is_404(client: httpx.Client) -> None:
    invoices = client.get("/ap/invoices", params={"limit": 1000}).json()["items"]
    without = next(i for i in invoices if not i["HasImage"])
    response = client.get(f"/ap/invoices/{without['APDivisionNo']}/{without['VendorNo']}/{without['InvoiceNo']}/image")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_attached_image_replaces_the_old_one_and_stamps_the_invoice(
    client: httpx.Client, agent: RunningAgent, invoices: InvoicePicker
) -> None:
    invoice = invoices.take()
    agent.clock.advance(dt.timedelta(minutes=1))
    agent.backend.attach_image(
        invoice.APDivisionNo, invoice.VendorNo, invoice.InvoiceNo, b"%PDF-1.4 tiny", "application/pdf"
    )
    path = f"/ap/invoices/{invoice.APDivisionNo}/{invoice.VendorNo}/{invoice.InvoiceNo}"
    assert client.get(f"{path}/image").content == b"%PDF-1.4 tiny"
    after = client.get(path).json()
    assert after["HasImage"] is True
    assert (after["DateUpdated"], float(after["TimeUpdated"])) > (invoice.DateUpdated, float(invoice.TimeUpdated))
