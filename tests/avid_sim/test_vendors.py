from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from avid_sim.testing import RunningAvid

from .conftest import error_detail, vendor


def upsert(client: httpx.Client, *vendors: object) -> list[dict[str, Any]]:
    response = client.post("/v1/vendors/batch", json={"Items": list(vendors)})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["Results"]
    return results


def test_a_batch_creates_vendors_with_avid_ids(client: httpx.Client, avid: RunningAvid) -> None:
    results = upsert(client, vendor("01-ACME"), vendor("01-BOLT"))
    assert [r["Successful"] for r in results] == [True, True]
    ids = [r["Item"]["Id"] for r in results]
    assert all(str(i).startswith("V-") for i in ids)
    assert len(set(ids)) == 2
    assert avid.state.vendors["01-BOLT"].id == ids[1]


def test_failed_items_come_back_with_errors_and_http_200(client: httpx.Client, avid: RunningAvid) -> None:
    results = upsert(
        client,
        vendor("01-OK"),
        {"ExternalVendorCode": "01-NONAME"},
        vendor("01-LONG", Name="x" * 101),
        vendor("01-CITY", Address={"City": "c" * 51}),
        "not an object",
    )
    assert [r["Successful"] for r in results] == [True, False, False, False, False]
    assert results[1] == {
        "Successful": False,
        "Errors": [{"Message": "Name is required"}],
        "Item": {"ExternalVendorCode": "01-NONAME"},
    }
    assert results[2]["Errors"] == [{"Message": "Name is longer than 100 characters"}]
    assert results[3]["Errors"] == [{"Message": "Address.City is longer than 50 characters"}]
    assert set(avid.state.vendors) == {"01-OK"}


def test_blank_name_counts_as_missing(client: httpx.Client) -> None:
    [result] = upsert(client, vendor("01-BLANK", Name="   "))
    assert result["Errors"] == [{"Message": "Name is required"}]


def test_upsert_by_code_keeps_the_id_and_replaces_fields(client: httpx.Client, avid: RunningAvid) -> None:
    [first] = upsert(client, vendor("01-ACME", Telephone="555-0100"))
    [second] = upsert(client, vendor("01-ACME", Name="Acme Renamed", Active=False))
    assert first["Item"] == second["Item"]
    stored = avid.state.vendors["01-ACME"]
    assert (stored.name, stored.active, stored.telephone) == ("Acme Renamed", False, "")


def test_last_modified_moves_only_when_something_changed(client: httpx.Client, avid: RunningAvid) -> None:
    avid.clock.set(dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC))
    upsert(client, vendor("01-ACME"))
    avid.clock.advance(dt.timedelta(hours=1))
    upsert(client, vendor("01-ACME"))
    assert avid.state.vendors["01-ACME"].last_modified_date == dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    upsert(client, vendor("01-ACME", Email="ap@acme.example"))
    assert avid.state.vendors["01-ACME"].last_modified_date == dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)


def test_batches_above_100_are_refused(client: httpx.Client, avid: RunningAvid) -> None:
    response = client.post("/v1/vendors/batch", json={"Items": [vendor(f"01-V{i}") for i in range(101)]})
    assert response.status_code == 400
    assert "at most 100" in error_detail(response)
    assert avid.state.vendors == {}


def test_a_bare_array_is_accepted_and_bad_json_is_400(client: httpx.Client) -> None:
    assert client.post("/v1/vendors/batch", json=[vendor()]).json()["Results"][0]["Successful"] is True
    bad = client.post("/v1/vendors/batch", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400
    assert "not valid JSON" in error_detail(bad)
    assert client.post("/v1/vendors/batch", json={"Vendors": []}).status_code == 400


def test_find_one_vendor_by_external_code(client: httpx.Client) -> None:
    upsert(client, vendor("01-ACME", Address={"Line1": "1 Main St", "City": "Austin"}), vendor("01-BOLT"))
    body = client.get("/v1/vendors", params={"externalVendorCode": "01-ACME"}).json()
    assert body["Paging"]["TotalItems"] == 1
    [item] = body["Items"]
    assert item["ExternalVendorCode"] == "01-ACME"
    assert item["Address"]["City"] == "Austin"
    assert item["Id"].startswith("V-")
    assert item["LastModifiedDate"].endswith("Z")
    assert client.get("/v1/vendors", params={"externalVendorCode": "01-NOPE"}).json()["Items"] == []


def test_list_vendors_modified_since(client: httpx.Client, avid: RunningAvid) -> None:
    avid.clock.set(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    upsert(client, vendor("01-OLD"))
    avid.clock.set(dt.datetime(2026, 11, 5, tzinfo=dt.UTC))
    upsert(client, vendor("01-NEW"))
    body = client.get("/v1/vendors", params={"lastModifiedFrom": "2026-11-03T00:00:00Z"}).json()
    assert [v["ExternalVendorCode"] for v in body["Items"]] == ["01-NEW"]
    bad = client.get("/v1/vendors", params={"lastModifiedFrom": "yesterday"})
    assert bad.status_code == 400
    assert "lastModifiedFrom" in error_detail(bad)
