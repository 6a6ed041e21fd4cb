"""The adapters implement the ports the sync stages depend on: checked by mypy here, and by signature at run time."""

from __future__ import annotations

import inspect

import pytest

from ml_connector import ports
from ml_connector.adapters.agent_client import AgentClient
from ml_connector.adapters.avid_client import AvidClient


def _typed_as_ports(agent: AgentClient, avid: AvidClient) -> tuple[ports.SageAgent, ports.AvidConnect]:
    return agent, avid  # mypy fails here if an adapter drifts from its port


@pytest.mark.parametrize(("port", "adapter"), [(ports.SageAgent, AgentClient), (ports.AvidConnect, AvidClient)])
def test_adapter_has_every_port_method_with_the_same_parameters(port: type, adapter: type) -> None:
    methods = [name for name, value in vars(port).items() if inspect.isfunction(value) and not name.startswith("_")]
    assert methods
    for name in methods:
        expected = inspect.signature(getattr(port, name)).parameters
        actual = inspect.signature(getattr(adapter, name)).parameters
        assert [(p.name, p.kind) for p in actual.values()] == [(p.name, p.kind) for p in expected.values()], name
