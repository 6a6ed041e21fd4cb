from __future__ import annotations

import httpx
import pytest

from .conftest import code, error_detail


@pytest.fixture(autouse=True)
def _seven_codes(client: httpx.Client) -> None:
    client.post("/v1/enterpriseCodes/batch", json={"Items": [code(str(i)) for i in range(7)]})


def page(client: httpx.Client, **params: object) -> httpx.Response:
    return client.get("/v1/enterpriseCodes", params=params)  # type: ignore[arg-type]


def test_pages_split_the_items_in_order(client: httpx.Client) -> None:
    first = page(client, pageNumber=1, pageSize=3).json()
    last = page(client, pageNumber=3, pageSize=3).json()
    assert first["Paging"] == {"PageNumber": 1, "PageSize": 3, "PageCount": 3, "TotalItems": 7}
    assert [c["CodeValue"] for c in first["Items"]] == ["0", "1", "2"]
    assert [c["CodeValue"] for c in last["Items"]] == ["6"]


def test_a_page_past_the_end_is_empty(client: httpx.Client) -> None:
    body = page(client, pageNumber=9, pageSize=3).json()
    assert body["Items"] == []
    assert body["Paging"]["PageCount"] == 3


def test_defaults_and_the_maximum(client: httpx.Client) -> None:
    assert page(client).json()["Paging"] == {"PageNumber": 1, "PageSize": 100, "PageCount": 1, "TotalItems": 7}
    assert page(client, pageSize=500).status_code == 200


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"pageSize": 501}, "pageSize 501 is above the maximum of 500"),
        ({"pageSize": 0}, "pageSize must be 1 or more"),
        ({"pageNumber": 0}, "pageNumber must be 1 or more"),
        ({"pageNumber": "two"}, "pageNumber 'two' is not a whole number"),
    ],
)
def test_bad_paging_is_400(client: httpx.Client, params: dict[str, object], expected: str) -> None:
    response = page(client, **params)
    assert response.status_code == 400
    assert expected in error_detail(response)


def test_empty_lists_have_no_pages(client: httpx.Client) -> None:
    body = client.get("/v1/vendors").json()
    assert body == {"Items": [], "Paging": {"PageNumber": 1, "PageSize": 100, "PageCount": 0, "TotalItems": 0}}
