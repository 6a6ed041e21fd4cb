"""A mirrored company per test: the agent's demo company, the AvidXchange simulator holding what the connector would
have sent, and the connector's mappings in memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from avid_sim.testing import RunningAvid, running_avid
from ml_connector.adapters.agent_client import AgentClient
from ml_connector.adapters.avid_client import AvidClient
from ml_connector.adapters.customer_systems import open_customer_systems
from ml_connector.customers import Customer
from ml_connector.observability import metrics
from sage_agent.testing import RunningAgent, running_agent
from tests.reconcile.company import MemoryMappings, live_customer, mirror_company, secrets_of


@dataclass
class Mirrored:
    customer: Customer
    agent: RunningAgent
    avid: RunningAvid
    agent_client: AgentClient
    avid_client: AvidClient
    mappings: MemoryMappings
    invoices: int


@pytest.fixture(autouse=True)
def metrics_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clients record each call's latency as a metric; Powertools publishes every 100th value, which needs a
    namespace (the functions get theirs from the template)."""
    monkeypatch.setattr(metrics, "namespace", "ml-connector-tests")


@pytest.fixture
def mirrored(tmp_path: Path) -> Iterator[Mirrored]:
    with (
        running_agent(tmp_path, seed="demo") as agent,
        running_avid(tmp_path) as avid,
    ):
        customer = live_customer("drift-co", agent, avid, invoice_start_date="2020-01-01")
        with open_customer_systems(customer, secrets_of(agent, avid)) as (agent_client, avid_client):
            mappings = MemoryMappings()
            invoices = mirror_company(customer, agent_client, avid_client, avid.controls, mappings)
            yield Mirrored(customer, agent, avid, agent_client, avid_client, mappings, invoices)
