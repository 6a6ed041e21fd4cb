"""Change feeds: keyset paging with no gaps or repeats while records change, and updated_since semantics."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sage_agent.testing import RunningAgent


def read_pass(
    client: httpx.Client, path: str, *, limit: int, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": limit, **(params or {}), **({"cursor": cursor} if cursor else {})}
        page = client.get(path, params=query).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def order_key(item: dict[str, Any]) -> tuple[str, Decimal]:
    return item["DateUpdated"], Decimal(item["TimeUpdated"])


@pytest.mark.parametrize(
    ("path", "key_fields"),
    [
        ("/vendors", ("APDivisionNo", "VendorNo")),
        ("/gl/accounts", ("AccountKey",)),
        ("/gl/segment-values", ("SegmentNo", "SubAccountCode")),
        ("/ap/invoices", ("APDivisionNo", "VendorNo", "InvoiceNo")),
    ],
)
def test_a_paged_pass_returns_every_record_once_in_change_order(
    client: httpx.Client, path: str, key_fields: tuple[str, ...]
) -> None:
    whole = client.get(path, params={"limit": 1000}).json()
    assert whole["next_cursor"] is None
    paged = read_pass(client, path, limit=7)
    assert [tuple(i[f] for f in key_fields) for i in paged] == [tuple(i[f] for f in key_fields) for i in whole["items"]]
    keys = [(*order_key(i), *(i[f] for f in key_fields)) for i in paged]
    assert keys == sorted(keys)


def test_records_changed_during_a_pass_are_neither_skipped_nor_repeated_before_their_change(
    client: httpx.Client, agent: RunningAgent
) -> None:
    everyone = {
        (v["APDivisionNo"], v["VendorNo"]) for v in client.get("/vendors", params={"limit": 1000}).json()["items"]
    }
    first = client.get("/vendors", params={"limit": 25}).json()
    seen_first = [(v["APDivisionNo"], v["VendorNo"]) for v in first["items"]]
    later = client.get("/vendors", params={"limit": 25, "cursor": first["next_cursor"]}).json()["items"][10]
    not_yet_seen = (later["APDivisionNo"], later["VendorNo"])
    already_seen = seen_first[3]

    agent.clock.advance(dt.timedelta(seconds=5))
    agent.backend.update_vendor(*already_seen, TelephoneNo="(602) 555-0101")
    agent.backend.update_vendor(*not_yet_seen, VendorName="Renamed Mid-Pass Supply")
    agent.backend.create_vendor(
        agent.backend.read_vendor(*already_seen).model_copy(update={"VendorNo": "NEWMID1"})  # type: ignore[union-attr]
    )

    rest = read_pass_from(client, first["next_cursor"])
    keys = seen_first + [(v["APDivisionNo"], v["VendorNo"]) for v in rest]
    assert set(keys) == everyone | {(already_seen[0], "NEWMID1")}, "no gaps"
    assert keys.count(not_yet_seen) == 1
    assert keys.count(already_seen) == 2, "a record changed after it was read comes again, in its new version"
    assert len(keys) == len(set(keys)) + 1
    tail = {(v["APDivisionNo"], v["VendorNo"]): v for v in rest[-3:]}
    assert tail[not_yet_seen]["VendorName"] == "Renamed Mid-Pass Supply"
    assert tail[already_seen]["TelephoneNo"] == "(602) 555-0101"


def read_pass_from(client: httpx.Client, cursor: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_cursor: str | None = cursor
    while next_cursor:
        page = client.get("/vendors", params={"limit": 25, "cursor": next_cursor}).json()
        items += page["items"]
        next_cursor = page["next_cursor"]
    return items


def test_updated_since_returns_records_stamped_at_or_after_it(client: httpx.Client, agent: RunningAgent) -> None:
    agent.clock.advance(dt.timedelta(hours=1))
    moment = agent.clock.now()
    vendor = client.get("/vendors", params={"limit": 1}).json()["items"][0]
    agent.backend.update_vendor(vendor["APDivisionNo"], vendor["VendorNo"], HoldPayment="Y")

    since = moment.strftime("%Y%m%dT%H:%M:%S")
    changed = client.get("/vendors", params={"updated_since": since}).json()["items"]
    assert [(v["VendorNo"], v["HoldPayment"]) for v in changed] == [(vendor["VendorNo"], "Y")]
    assert changed[0]["DateUpdated"] == moment.strftime("%Y%m%d")
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
    assert Decimal(changed[0]["TimeUpdated"]) == Decimal(seconds * 100_000 // 3600) / 100_000, "hours, truncated"

    one_second_later = (moment + dt.timedelta(seconds=1)).strftime("%Y%m%dT%H:%M:%S")
    assert client.get("/vendors", params={"updated_since": one_second_later}).json()["items"] == []


def test_paying_an_invoice_puts_it_on_the_invoice_feed(client: httpx.Client, agent: RunningAgent) -> None:
    agent.clock.advance(dt.timedelta(hours=1))
    since = agent.clock.now().strftime("%Y%m%dT%H:%M:%S")
    invoice = client.get("/ap/invoices", params={"limit": 1, "division": "02"}).json()["items"][0]
    agent.backend.update_invoice(invoice["APDivisionNo"], invoice["VendorNo"], invoice["InvoiceNo"], Comment="Checked")
    changed = client.get("/ap/invoices", params={"updated_since": since}).json()["items"]
    assert [(i["InvoiceNo"], i["Comment"]) for i in changed] == [(invoice["InvoiceNo"], "Checked")]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": "ten"},
        {"updated_since": "2026-11-20"},
        {"updated_since": "20261340T10:00:00"},
        {"cursor": "not-a-cursor"},
    ],
)
def test_malformed_feed_queries_are_400(client: httpx.Client, params: dict[str, Any]) -> None:
    response = client.get("/vendors", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_a_cursor_of_one_feed_is_refused_by_another(client: httpx.Client) -> None:
    cursor = client.get("/vendors", params={"limit": 1}).json()["next_cursor"]
    response = client.get("/ap/invoices", params={"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["message"]


def test_a_pass_under_concurrent_writes_has_no_gaps_and_no_stale_repeats(
    client: httpx.Client, agent: RunningAgent
) -> None:
    before = {
        (v["APDivisionNo"], v["VendorNo"]) for v in client.get("/vendors", params={"limit": 1000}).json()["items"]
    }
    keys = sorted(before)

    def write_a_while() -> None:
        for number in range(60):
            division, vendor_no = keys[(number * 37) % len(keys)]
            agent.backend.update_vendor(division, vendor_no, AddressLine3=f"Bldg {number}")

    first = client.get("/vendors", params={"limit": 9}).json()
    writer = threading.Thread(target=write_a_while)
    writer.start()
    try:
        seen = first["items"] + read_pass_from(client, first["next_cursor"])
    finally:
        writer.join()
    assert {(v["APDivisionNo"], v["VendorNo"]) for v in seen} >= before, "no gaps"
    positions = [(*order_key(v), v["APDivisionNo"], v["VendorNo"]) for v in seen]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions), "a version is never served twice"
