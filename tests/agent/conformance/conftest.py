"""One backend conformance suite, run against every target in ``targets.TARGETS``."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from itertools import count

import httpx
import pytest

from tests.agent.conformance.targets import TARGETS, SageControls, Target, running_target

_numbers = count(1)


@pytest.fixture(scope="module", params=TARGETS)
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with running_target(request.param, tmp_path_factory.mktemp(request.param)) as running:
        yield running


@pytest.fixture(scope="module")
def api(target: Target) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{target.url}/v1/companies/{target.company}",
        verify=ssl.create_default_context(cafile=str(target.certificate.cert_path)),
        headers={"X-Agent-Key": target.agent_key},
        timeout=30,
    ) as client:
        yield client


@pytest.fixture
def sage(target: Target) -> SageControls:
    if target.sage is None:
        pytest.skip("needs Sage-side controls (locks, new invoices) that a real Sage 100 does not offer to tests")
    return target.sage


def unique(prefix: str) -> str:
    """A fresh record key, short enough for InvoiceNo (10) and CheckNo (10)."""
    return f"{prefix}{next(_numbers):04d}"
