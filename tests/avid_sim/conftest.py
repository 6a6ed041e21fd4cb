"""One simulator per test session; every test starts from an empty state, no faults and a running clock."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from avid_sim.testing import RunningAvid, running_avid

SMALL_IMAGE_LIMIT = 64 * 1024
GL = "Accounting Codes"


@pytest.fixture(scope="session")
def avid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAvid]:
    with running_avid(tmp_path_factory.mktemp("avid"), max_image_bytes=SMALL_IMAGE_LIMIT) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_simulator(avid: RunningAvid) -> None:
    avid.state.reset()
    avid.controls.reset_faults(seed=7)
    avid.controls.faults.fired.clear()
    avid.clock.resume()


@pytest.fixture
def client(avid: RunningAvid) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=avid.url, verify=trust(avid), headers=avid.headers, timeout=10) as http:
        yield http


def trust(avid: RunningAvid) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(avid.certificate.cert_path))


def vendor(code: str = "01-ACME", **fields: Any) -> dict[str, Any]:
    return {"ExternalVendorCode": code, "Name": f"Vendor {code}", **fields}


def code(value: str, group: str = GL, **fields: Any) -> dict[str, Any]:
    return {"GroupName": group, "CodeValue": value, **fields}


def invoice(number: str = "10045", vendor_code: str = "01-ACME", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Number": number,
        "VendorExternalCode": vendor_code,
        "InvoiceDate": "2026-11-02",
        "DueDate": "2026-12-02",
        "GrossAmount": "1250.00",
        "PONumber": "",
        "Memo": "",
        "Distributions": [
            {
                "Amount": "1000.00",
                "Description": "Concrete",
                "EnterpriseCodes": [code("6100-02-300"), code("300", "Cost Center")],
            },
            {"Amount": "250.00", "Description": "Rebar", "EnterpriseCodes": [code("6100-02-300")]},
        ],
    }
    body.update(fields)
    return body


def seed_reference_data(client: httpx.Client, *vendor_codes: str) -> None:
    """Vendors (01-ACME unless named) and the codes ``invoice()`` uses."""
    vendors = [vendor(c) for c in (vendor_codes or ("01-ACME",))]
    assert client.post("/v1/vendors/batch", json={"Items": vendors}).status_code == 200
    codes = [code("6100-02-300"), code("300", "Cost Center")]
    assert client.post("/v1/enterpriseCodes/batch", json={"Items": codes}).status_code == 200


def create_invoice(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/invoices", json=invoice(**fields))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def error_detail(response: httpx.Response) -> str:
    body = response.json()
    assert set(body["exception"]) == {"avidMessageId", "reason", "detail"}
    detail: str = body["exception"]["detail"]
    return detail
