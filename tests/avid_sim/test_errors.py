from __future__ import annotations

import httpx
import pytest

from avid_sim.testing import RunningAvid

from .conftest import error_detail


class _Broken:
    def wire(self) -> dict[str, str]:
        raise RuntimeError("boom")


def test_an_unexpected_error_is_a_500_in_the_error_shape(
    client: httpx.Client, avid: RunningAvid, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(avid.state, "company", _Broken())
    response = client.get("/v1/company")
    assert response.status_code == 500
    assert error_detail(response) == "unexpected error: RuntimeError"


def test_a_batch_item_that_is_not_an_object_fails_alone(client: httpx.Client) -> None:
    results = client.post("/v1/vendors/batch", json={"Items": [42, {"ExternalVendorCode": "01-A", "Name": "A"}]})
    first, second = results.json()["Results"]
    assert first["Successful"] is False
    assert first["Item"] == {}
    assert first["Errors"][0]["Message"].startswith("record: ")
    assert second["Successful"] is True


def test_wrong_method_is_405_in_the_error_shape(client: httpx.Client) -> None:
    response = client.put("/v1/invoices")
    assert response.status_code == 405
    assert "PUT /v1/invoices" in error_detail(response)
