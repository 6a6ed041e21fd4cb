"""Reads every backend must answer alike: company, feeds with keyset paging, keyed reads, invoices, images."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from urllib.parse import quote

import httpx

from sage_agent.simulated.images import make_png, scanned_page
from tests.agent.conformance.conftest import unique
from tests.agent.conformance.targets import SageControls, Target


def key(value: str) -> str:
    return quote(value, safe="")


def test_ping_describes_the_company(api: httpx.Client, target: Target) -> None:
    info = api.get("/ping").json()
    assert info["CompanyCode"] == target.company
    assert info["BankCodes"] and all(len(code) == 1 for code in info["BankCodes"])
    assert len(info["APModuleDate"]) == 8 and info["APModuleDate"].isascii()


def test_gl_segments_describe_the_account_structure(api: httpx.Client) -> None:
    segments = api.get("/gl/segments").json()["items"]
    assert [s["SegmentNo"] for s in segments] == list(range(1, len(segments) + 1))


def all_pages(api: httpx.Client, path: str, limit: int) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    params: dict[str, str | int] = {"limit": limit}
    while True:
        page = api.get(path, params=params).json()
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        params = {"limit": limit, "cursor": page["next_cursor"]}


def test_a_feed_pass_while_vendors_change_skips_none_and_repeats_only_the_changed(
    api: httpx.Client, sage: SageControls
) -> None:
    first = api.get("/vendors", params={"limit": 10}).json()
    seen = [(v["APDivisionNo"], v["VendorNo"]) for v in first["items"]]
    changed = seen[0]
    sage.rename_vendor(*changed, "Renamed While Paging")
    rest = []
    cursor = first["next_cursor"]
    while cursor:
        page = api.get("/vendors", params={"limit": 10, "cursor": cursor}).json()
        rest += page["items"]
        cursor = page["next_cursor"]
    keys = seen + [(v["APDivisionNo"], v["VendorNo"]) for v in rest]
    every = {(v["APDivisionNo"], v["VendorNo"]) for v in all_pages(api, "/vendors", 1000)}
    assert set(keys) == every, "no vendor is skipped"
    assert keys.count(changed) == 2 and len(keys) == len(every) + 1, "only the changed vendor repeats"
    assert rest[-1]["VendorName"] == "Renamed While Paging"
    stamps = [(v["DateUpdated"], float(str(v["TimeUpdated"]))) for v in rest]
    assert stamps == sorted(stamps)


def test_keyed_vendor_read_matches_the_feed_and_misses_are_not_found(api: httpx.Client) -> None:
    listed = api.get("/vendors", params={"limit": 1}).json()["items"][0]
    found = api.get(f"/vendors/{listed['APDivisionNo']}/{key(str(listed['VendorNo']))}")
    assert found.status_code == 200
    assert found.json() == listed
    for odd in ("NOBODY", "A/B", "50%", "A B?#"):
        missing = api.get(f"/vendors/01/{key(odd)}")
        assert missing.status_code == 404, odd
        assert missing.json()["error"]["code"] == "not_found", odd


def test_keyed_gl_account_and_segment_value_reads(api: httpx.Client) -> None:
    account = api.get("/gl/accounts", params={"limit": 1}).json()["items"][0]
    assert api.get(f"/gl/accounts/{key(account['AccountKey'])}").json() == account
    value = api.get("/gl/segment-values", params={"limit": 1}).json()["items"][0]
    assert api.get(f"/gl/segment-values/{value['SegmentNo']}/{key(value['SubAccountCode'])}").json() == value
    for path in ("/gl/accounts/NOPE", f"/gl/accounts/{key('61/00')}", f"/gl/segment-values/1/{key('9/9')}"):
        missing = api.get(path)
        assert missing.status_code == 404, path
        assert missing.json()["error"]["code"] == "not_found", path


def test_invoice_with_a_slash_is_read_by_key_with_its_image(
    api: httpx.Client, target: Target, sage: SageControls
) -> None:
    invoice_no = f"{unique('S')}/B"
    sage.enter_invoice("01", "ACME", invoice_no, Decimal("125.50"))
    path = f"/ap/invoices/01/ACME/{key(invoice_no)}"
    assert api.get(path).json()["HasImage"] is False
    assert api.get(f"{path}/image").json()["error"]["code"] == "not_found"
    assert target.scans is not None
    picture = make_png(scanned_page(invoice_no, 7))
    folder = target.scans / "acme"  # matched case-insensitively
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{invoice_no.replace('/', '_')}.SCAN").write_bytes(picture)
    invoice = api.get(path)
    assert invoice.status_code == 200
    assert invoice.json()["InvoiceNo"] == invoice_no
    assert invoice.json()["Balance"] == "125.50"
    assert invoice.json()["HasImage"] is True
    image = api.get(f"{path}/image")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png", "the type comes from the bytes, not the extension"
    assert image.headers["etag"] == f'"{hashlib.sha256(picture).hexdigest()}"'
    assert image.content == picture


def test_invoice_feed_filters_by_division_and_carries_lines(api: httpx.Client) -> None:
    invoices = api.get("/ap/invoices", params={"division": "02", "limit": 50}).json()["items"]
    assert invoices and all(i["APDivisionNo"] == "02" for i in invoices)
    for invoice in invoices:
        assert sum(Decimal(line["DistributionAmt"]) for line in invoice["Lines"]) == Decimal(invoice["InvoiceAmt"])
