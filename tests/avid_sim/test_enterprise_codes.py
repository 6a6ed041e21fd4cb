from __future__ import annotations

import httpx

from avid_sim.testing import RunningAvid

from .conftest import GL, code, error_detail


def test_codes_are_keyed_by_group_and_value(client: httpx.Client, avid: RunningAvid) -> None:
    response = client.post(
        "/v1/enterpriseCodes/batch", json={"Items": [code("300"), code("300", "Cost Center"), code("300")]}
    )
    results = response.json()["Results"]
    assert response.status_code == 200
    assert [r["Successful"] for r in results] == [True, True, True]
    assert results[0]["Item"]["Id"] == results[2]["Item"]["Id"] != results[1]["Item"]["Id"]
    assert results[0]["Item"]["Id"].startswith("EC-")
    assert set(avid.state.enterprise_codes) == {(GL, "300"), ("Cost Center", "300")}


def test_deactivating_is_an_upsert_and_there_is_no_delete(client: httpx.Client, avid: RunningAvid) -> None:
    client.post("/v1/enterpriseCodes/batch", json={"Items": [code("6100", Description="Materials")]})
    client.post("/v1/enterpriseCodes/batch", json={"Items": [code("6100", Description="Materials", IsActive=False)]})
    assert avid.state.enterprise_codes[(GL, "6100")].is_active is False
    assert client.delete("/v1/enterpriseCodes").status_code == 405


def test_per_item_failures(client: httpx.Client) -> None:
    results = client.post(
        "/v1/enterpriseCodes/batch", json={"Items": [{"GroupName": GL}, code("x" * 51), code("ok")]}
    ).json()["Results"]
    assert results[0] == {
        "Successful": False,
        "Errors": [{"Message": "CodeValue is required"}],
        "Item": {"GroupName": GL},
    }
    assert results[1]["Errors"] == [{"Message": "CodeValue is longer than 50 characters"}]
    assert results[2]["Successful"] is True


def test_batches_above_500_are_refused(client: httpx.Client) -> None:
    assert (
        client.post("/v1/enterpriseCodes/batch", json={"Items": [code(str(i)) for i in range(500)]}).status_code == 200
    )
    response = client.post("/v1/enterpriseCodes/batch", json={"Items": [code(str(i)) for i in range(501)]})
    assert response.status_code == 400
    assert "at most 500" in error_detail(response)


def test_list_filters_by_group(client: httpx.Client) -> None:
    client.post("/v1/enterpriseCodes/batch", json={"Items": [code("6100"), code("300", "Cost Center")]})
    body = client.get("/v1/enterpriseCodes", params={"groupName": "Cost Center"}).json()
    assert [(c["GroupName"], c["CodeValue"], c["IsActive"]) for c in body["Items"]] == [("Cost Center", "300", True)]
    assert client.get("/v1/enterpriseCodes").json()["Paging"]["TotalItems"] == 2
