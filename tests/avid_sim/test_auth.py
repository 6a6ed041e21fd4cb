from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from avid_sim.testing import RunningAvid, running_avid

from .conftest import error_detail, trust


@pytest.mark.parametrize("path", ["/v1/company", "/v1/vendors", "/_sim/faults"])
def test_missing_tokens_are_refused_with_401(avid: RunningAvid, path: str) -> None:
    with httpx.Client(base_url=avid.url, verify=trust(avid)) as http:
        response = http.request("DELETE" if path.startswith("/_sim") else "GET", path)
    assert response.status_code == 401
    assert "X-Company-Token header is missing" in error_detail(response)


@pytest.mark.parametrize("wrong", ["X-Company-Token", "X-User-Token"])
def test_a_wrong_token_is_refused_with_401(avid: RunningAvid, wrong: str) -> None:
    headers = {**avid.headers, wrong: "not-the-token"}
    with httpx.Client(base_url=avid.url, verify=trust(avid), headers=headers) as http:
        response = http.get("/v1/company")
    assert response.status_code == 401
    assert f"{wrong} token is not valid" in error_detail(response)
    assert "not-the-token" not in response.text


def test_right_tokens_reach_the_company(client: httpx.Client) -> None:
    response = client.get("/v1/company")
    assert response.status_code == 200
    assert set(response.json()) == {"CompanyId", "Name"}


def test_header_names_are_configurable(tmp_path: Path) -> None:
    with running_avid(
        tmp_path, company_token="c-tok", user_token="u-tok", company_header="X-Avid-Co", user_header="X-Avid-User"
    ) as avid:
        verify = trust(avid)
        with httpx.Client(base_url=avid.url, verify=verify) as http:
            ok = http.get("/v1/company", headers={"X-Avid-Co": "c-tok", "X-Avid-User": "u-tok"})
            default_names = http.get("/v1/company", headers={"X-Company-Token": "c-tok", "X-User-Token": "u-tok"})
    assert ok.status_code == 200
    assert default_names.status_code == 401
    assert avid.headers == {"X-Avid-Co": "c-tok", "X-Avid-User": "u-tok"}


def test_unknown_endpoint_answers_404_in_the_error_shape(client: httpx.Client) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert "GET /v1/nothing-here" in error_detail(response)
