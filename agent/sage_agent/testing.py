"""A real agent over HTTPS on 127.0.0.1 for tests of other code (the connector's clients, the e2e stack).

with running_agent(tmp_path) as agent:
    httpx.get(f"{agent.url}/v1/health", headers={"X-Agent-Key": agent.agent_key}, verify=...)
    agent.backend.update_vendor("01", "ACME", HoldPayment="Y")   # a Sage user's edit
    agent.faults.fail_next("post_payment", 2, status=423)          # injected faults
    agent.clock.advance(timedelta(minutes=5))                      # agent-local time moves
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sage_agent.app import AgentSettings, create_app
from sage_agent.auth import AgentKeys, hash_agent_key
from sage_agent.faults import FaultController
from sage_agent.sage_time import ManualClock
from sage_agent.serving import serve_https_in_thread
from sage_agent.simulated import SimulatedBackend
from sage_agent.simulated.generator import (
    DEMO_COMPANY_CODE,
    DEMO_SHAPE,
    EMPTY_SHAPE,
    CompanyShape,
    generate_company,
)
from sage_agent.tls import CertificateFiles, ensure_self_signed_certificate


@dataclass
class RunningAgent:
    url: str
    """``https://127.0.0.1:PORT`` (no trailing slash)."""
    agent_key: str
    company: str
    """``"RCC"``."""
    certificate: CertificateFiles
    """Self-signed; ``.cert_path`` works as ``verify=`` CA file, ``.fingerprint_sha256`` for pinning."""
    backend: SimulatedBackend
    """The RCC company, for direct edits as a Sage user would make them."""
    faults: FaultController
    """Fault switches; they act only when the agent started with ``faults_enabled=True``."""
    clock: ManualClock
    """Agent-local time; stands still until ``advance``/``set``. Starts at the current local time."""


@contextmanager
def running_agent(
    tmp_dir: Path,
    *,
    seed: Literal["demo", "empty"] | CompanyShape = "demo",
    faults_enabled: bool = True,
    agent_key: str = "test-agent-key",
    post_payments: bool = True,
) -> Iterator[RunningAgent]:
    """Start an agent serving company RCC over HTTPS; stop it when the block ends.

    ``seed="demo"``: Redrock Construction Co. (about 120 vendors, 420 open invoices, most with images).
    ``seed="empty"``: the company with its divisions, bank codes and chart of accounts, no vendors or invoices.
    A ``CompanyShape``: a company of that size from the generator (a scaled company).
    """
    home = Path(tempfile.mkdtemp(prefix="sage-agent-", dir=tmp_dir))
    clock = ManualClock(dt.datetime.now().replace(microsecond=0))
    db_path = home / f"{DEMO_COMPANY_CODE}.sqlite"
    shape = seed if isinstance(seed, CompanyShape) else DEMO_SHAPE if seed == "demo" else EMPTY_SHAPE
    generate_company(db_path, shape, clock.now())
    backend = SimulatedBackend(db_path, clock=clock)
    certificate, _ = ensure_self_signed_certificate(home / "tls" / "agent.crt", home / "tls" / "agent.key")
    faults = FaultController()
    settings = AgentSettings(
        agent_keys=AgentKeys([hash_agent_key(agent_key)]),
        clock=clock,
        post_payments=post_payments,
        faults=faults if faults_enabled else None,
    )
    app = create_app({DEMO_COMPANY_CODE: backend}, settings)
    with serve_https_in_thread(app, certificate) as server:
        yield RunningAgent(
            url=server.url,
            agent_key=agent_key,
            company=DEMO_COMPANY_CODE,
            certificate=certificate,
            backend=backend,
            faults=faults,
            clock=clock,
        )
