"""The demo company looks like a real construction firm; the generator scales the same shape."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from contextlib import closing
from pathlib import Path

from sage_agent.backend import ChangeWindow, InvoiceFilter
from sage_agent.sage_time import SageStamp, SystemClock
from sage_agent.simulated import SimulatedBackend
from sage_agent.simulated.generator import DEMO_SHAPE, CompanyShape, generate_company

NOW = dt.datetime(2026, 11, 20, 10, 30)


def test_demo_company_shape(tmp_path: Path) -> None:
    generate_company(tmp_path / "RCC.sqlite", DEMO_SHAPE, NOW)
    backend = SimulatedBackend(tmp_path / "RCC.sqlite", clock=SystemClock())
    vendors = backend.browse_vendors(ChangeWindow(limit=10_000))
    invoices = backend.browse_open_invoices(ChangeWindow(limit=10_000), InvoiceFilter())
    accounts = backend.browse_gl_accounts(ChangeWindow(limit=10_000))
    assert 100 <= len(vendors) <= 140
    assert Counter(v.APDivisionNo for v in vendors).keys() == {"01", "02"}
    assert len({v.VendorName for v in vendors}) == len(vendors)
    assert 300 <= len(invoices) <= 600
    assert sum(i.HasImage for i in invoices) / len(invoices) > 0.7
    assert all(sum(line.DistributionAmt for line in i.Lines) == i.InvoiceAmt for i in invoices)
    assert all(len(a.Account.split("-")) == 3 for a in accounts)
    assert {i.APDivisionNo for i in invoices} == {"01", "02"}
    assert all(i.Lines[0].Account.split("-")[1] == i.APDivisionNo for i in invoices), "expense lands in its division"
    latest = max(SageStamp.from_fields(r.DateUpdated, r.TimeUpdated) for r in [*vendors, *invoices, *accounts])
    assert latest < SageStamp.at(NOW), "nothing is stamped in the future"
    assert backend.read_open_invoice("01", "ACME", "10045") is not None, "the contract's example exists"


def test_the_same_seed_gives_the_same_company(tmp_path: Path) -> None:
    shape = CompanyShape(vendors=30, invoices=90, image_share=0.2, seed=5)
    first = generate_company(tmp_path / "a.sqlite", shape, NOW)
    second = generate_company(tmp_path / "b.sqlite", shape, NOW)
    assert (first.vendors, first.invoices, first.lines, first.images) == (
        second.vendors,
        second.invoices,
        second.lines,
        second.images,
    )
    query = "SELECT * FROM invoices ORDER BY 1, 2, 3"
    with closing(sqlite3.connect(tmp_path / "a.sqlite")) as a, closing(sqlite3.connect(tmp_path / "b.sqlite")) as b:
        assert a.execute(query).fetchall() == b.execute(query).fetchall()


def test_generator_scales_and_reports_figures(tmp_path: Path) -> None:
    report = generate_company(tmp_path / "big.sqlite", CompanyShape(vendors=400, invoices=3000, image_share=0.01), NOW)
    assert (report.vendors, report.invoices) == (400, 3000)
    assert report.lines >= 3000
    assert report.images >= 1
    assert "rows/s" in report.describe()
    assert "MiB" in report.describe()
    backend = SimulatedBackend(tmp_path / "big.sqlite", clock=SystemClock())
    vendor_numbers = [v.VendorNo for v in backend.browse_vendors(ChangeWindow(limit=10_000))]
    assert len(vendor_numbers) == len(set(vendor_numbers)) == 400
    assert all(len(number) <= 7 for number in vendor_numbers)
