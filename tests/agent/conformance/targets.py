"""The agents the backend conformance suite runs against, and the Sage-side controls each one offers.

``simulated``: the SQLite company. ``boi-fake``: the BOI backend over the fake ProvideX object model, loaded
with the same demo company. ``boi-real``: the BOI backend over a real Sage 100 (Windows only; set
``SAGE_AGENT_CONFORMANCE_CONFIG`` to an agent.toml whose first company is a ``boi`` company with test data).
Both backends find scanned invoices through the same ``FolderImageSource`` (``scans/{VendorNo}/{InvoiceNo}.*``).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import pytest

from sage_agent.app import AgentSettings, create_app
from sage_agent.auth import AgentKeys, hash_agent_key
from sage_agent.backend import ChangeWindow, InvoiceFilter, SageBackend
from sage_agent.boi import BoiBackend, BoiSettings
from sage_agent.boi.fake import FakeComRuntime, FakeSageCompany, post_batch
from sage_agent.boi.pool import PoolSettings
from sage_agent.boi.session import Login
from sage_agent.config import load_config
from sage_agent.images import FolderImageSource
from sage_agent.records import InvoiceHeaderFields, InvoiceLine, OpenInvoice
from sage_agent.runtime import build_agent
from sage_agent.sage_time import Clock, ManualClock, SageStamp, format_sage_date
from sage_agent.serving import serve_https_in_thread
from sage_agent.simulated import SimulatedBackend
from sage_agent.simulated.generator import DEMO_COMPANY_CODE, DEMO_SHAPE, generate_company
from sage_agent.simulated.store import Distribution
from sage_agent.tls import CertificateFiles, ensure_self_signed_certificate

TARGETS = ("simulated", "boi-fake", "boi-real")
AGENT_KEY = "conformance-agent-key"
SCAN_PATTERN = "{VendorNo}/{InvoiceNo}.*"
REAL_CONFIG = "SAGE_AGENT_CONFORMANCE_CONFIG"


class SageControls(Protocol):
    """What a Sage user or administrator does to the company while the agent serves it."""

    def enter_invoice(self, division: str, vendor_no: str, invoice_no: str, amount: Decimal) -> OpenInvoice: ...

    def rename_vendor(self, division: str, vendor_no: str, name: str) -> None: ...

    def locked(self, table: str, *key: str) -> AbstractContextManager[None]: ...

    def post_register(self) -> None: ...


@dataclass
class Target:
    name: str
    url: str
    agent_key: str
    company: str
    certificate: CertificateFiles
    scans: Path | None
    """The folder the agent's image pattern looks into (``None``: not writable by the test)."""
    sage: SageControls | None
    """``None`` for real Sage: the tests that need Sage-side controls skip there."""


def demo_backend(home: Path, clock: Clock) -> SimulatedBackend:
    db_path = home / f"{DEMO_COMPANY_CODE}.sqlite"
    generate_company(db_path, DEMO_SHAPE, clock.now())
    return SimulatedBackend(db_path, clock=clock, images=FolderImageSource([str(home / "scans" / SCAN_PATTERN)]))


class SimulatedControls:
    def __init__(self, backend: SimulatedBackend) -> None:
        self._backend = backend

    def enter_invoice(self, division: str, vendor_no: str, invoice_no: str, amount: Decimal) -> OpenInvoice:
        account = self._backend.browse_gl_accounts(ChangeWindow(limit=1))[0].AccountKey
        today = format_sage_date(dt.date.today())
        header = InvoiceHeaderFields(
            APDivisionNo=division, VendorNo=vendor_no, InvoiceNo=invoice_no, InvoiceDate=today, InvoiceDueDate=today
        )
        return self._backend.create_invoice(header, [Distribution(account, amount)])

    def rename_vendor(self, division: str, vendor_no: str, name: str) -> None:
        self._backend.update_vendor(division, vendor_no, VendorName=name)

    def locked(self, table: str, *key: str) -> AbstractContextManager[None]:
        return self._backend.locked(table, *key, retry_after=2)

    def post_register(self) -> None:
        self._backend.post_manual_checks()


class FakeSageControls:
    def __init__(self, company: FakeSageCompany) -> None:
        self._company = company

    def enter_invoice(self, division: str, vendor_no: str, invoice_no: str, amount: Decimal) -> OpenInvoice:
        account = self._company.rows("GL_Account")[0]
        stamp = SageStamp.at(self._company.clock.now())
        today = format_sage_date(dt.date.today())
        invoice = OpenInvoice(
            APDivisionNo=division,
            VendorNo=vendor_no,
            InvoiceNo=invoice_no,
            InvoiceDate=today,
            InvoiceDueDate=today,
            InvoiceAmt=amount,
            Balance=amount,
            Lines=[InvoiceLine(AccountKey=account["AccountKey$"], Account=account["Account$"], DistributionAmt=amount)],
            HasImage=False,
            DateUpdated=stamp.date,
            TimeUpdated=stamp.time_text,
        )
        self._company.load_invoice(invoice)
        return invoice

    def rename_vendor(self, division: str, vendor_no: str, name: str) -> None:
        self._company.update("AP_Vendor", (division, vendor_no), **{"VendorName$": name})

    def locked(self, table: str, *key: str) -> AbstractContextManager[None]:
        return self._company.locked(table, *key)

    def post_register(self) -> None:
        post_batch(self._company, None)


def fake_company_like(backend: SimulatedBackend, clock: Clock) -> FakeSageCompany:
    """A fake Sage company holding the same records as ``backend``."""
    company = FakeSageCompany(backend.company_code, clock=clock)
    everything = ChangeWindow(limit=1_000_000)
    invoices = backend.browse_open_invoices(everything, InvoiceFilter())
    company.load(
        backend.company_info(),
        divisions=sorted({v.APDivisionNo for v in backend.browse_vendors(everything)}),
        segments=backend.gl_segments(),
        vendors=backend.browse_vendors(everything),
        accounts=backend.browse_gl_accounts(everything),
        segment_values=backend.browse_segment_values(everything, None),
        invoices=invoices,
    )
    return company


def fake_boi_backend(company: FakeSageCompany, clock: Clock, images: FolderImageSource | None) -> BoiBackend:
    settings = BoiSettings(
        login=Login(Path("C:/Sage/Sage 100/MAS90/Home"), "agent", "secret", company.code),
        pool=PoolSettings(size=3, wait_seconds=10),
    )
    return BoiBackend(FakeComRuntime(company), settings, clock=clock, images=images)


@contextmanager
def running_target(name: str, home: Path) -> Iterator[Target]:
    if name == "boi-real":
        yield from _real_target(home)
        return
    clock = ManualClock(dt.datetime.now().replace(microsecond=0))
    simulated = demo_backend(home, clock)
    backend: SageBackend = simulated
    controls: SageControls = SimulatedControls(simulated)
    if name == "boi-fake":
        company = fake_company_like(simulated, clock)
        backend = fake_boi_backend(company, clock, FolderImageSource([str(home / "scans" / SCAN_PATTERN)]))
        controls = FakeSageControls(company)
    certificate, _ = ensure_self_signed_certificate(home / "tls" / "agent.crt", home / "tls" / "agent.key")
    settings = AgentSettings(agent_keys=AgentKeys([hash_agent_key(AGENT_KEY)]), clock=clock)
    with serve_https_in_thread(create_app({DEMO_COMPANY_CODE: backend}, settings), certificate) as server:
        yield Target(name, server.url, AGENT_KEY, DEMO_COMPANY_CODE, certificate, home / "scans", controls)
    if isinstance(backend, BoiBackend):
        backend.close()


def _real_target(home: Path) -> Iterator[Target]:
    config_path = os.environ.get(REAL_CONFIG)
    if sys.platform != "win32" or not config_path:
        pytest.skip(f"real Sage 100 runs only on Windows with {REAL_CONFIG} set")
    config = load_config(Path(config_path))
    agent = build_agent(config)
    settings_key = os.environ.get("SAGE_AGENT_CONFORMANCE_KEY", "")
    with serve_https_in_thread(agent.app, agent.certificate) as server:
        yield Target("boi-real", server.url, settings_key, next(iter(config.companies)), agent.certificate, None, None)
