"""Live agents over real HTTPS on 127.0.0.1, shared per session (starting one seeds a demo company)."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from sage_agent.backend import ChangeWindow, InvoiceFilter
from sage_agent.faults import FaultController
from sage_agent.records import OpenInvoice
from sage_agent.testing import RunningAgent, running_agent


def tls_context(agent: RunningAgent) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(agent.certificate.cert_path))


def company_client(agent: RunningAgent, *, key: str | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=f"{agent.url}/v1/companies/{agent.company}",
        verify=tls_context(agent),
        headers={"X-Agent-Key": key if key is not None else agent.agent_key},
        timeout=20,
    )


@pytest.fixture(scope="session")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAgent]:
    """The demo company with fault controls enabled and payments posted immediately."""
    with running_agent(tmp_path_factory.mktemp("agent")) as running:
        yield running


@pytest.fixture(scope="session")
def quiet_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAgent]:
    """Faults disabled (no /v1/_faults at all) and manual checks left unposted."""
    with running_agent(tmp_path_factory.mktemp("quiet"), faults_enabled=False, post_payments=False) as running:
        yield running


@pytest.fixture(scope="session")
def client(agent: RunningAgent) -> Iterator[httpx.Client]:
    with company_client(agent) as http:
        yield http


@pytest.fixture
def faults(agent: RunningAgent) -> Iterator[FaultController]:
    agent.faults.reset()
    yield agent.faults
    agent.faults.reset()


class InvoicePicker:
    """Hands each test open invoices no other test touched (positive balance, active vendor, not on hold)."""

    def __init__(self, agent: RunningAgent) -> None:
        active = {
            (v.APDivisionNo, v.VendorNo)
            for v in agent.backend.browse_vendors(ChangeWindow(limit=10_000))
            if v.VendorStatus != "I"
        }
        invoices = agent.backend.browse_open_invoices(ChangeWindow(limit=10_000), InvoiceFilter())
        self._free = [i for i in invoices if i.Balance > Decimal("100.00") and (i.APDivisionNo, i.VendorNo) in active]
        self._guard = threading.Lock()

    def take(self) -> OpenInvoice:
        with self._guard:
            return self._free.pop()

    def take_two_of_one_vendor(self) -> tuple[OpenInvoice, OpenInvoice]:
        with self._guard:
            for index, first in enumerate(self._free):
                for second in self._free[index + 1 :]:
                    if (first.APDivisionNo, first.VendorNo) == (second.APDivisionNo, second.VendorNo):
                        self._free.remove(first)
                        self._free.remove(second)
                        return first, second
        raise AssertionError("the demo company has no vendor with two unused open invoices left")


@pytest.fixture(scope="session")
def invoices(agent: RunningAgent) -> InvoicePicker:
    return InvoicePicker(agent)
