"""``running_avid``: a simulated AvidXchange over real HTTPS for tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from avid_sim.clock import Monotonic, SimClock
from avid_sim.controls import AvidControls
from avid_sim.server import simulator_certificate, start_simulator
from avid_sim.settings import DEFAULT_MAX_IMAGE_BYTES, SimSettings
from avid_sim.state import AvidState
from sage_agent.tls import CertificateFiles


@dataclass
class RunningAvid:
    url: str
    """https://127.0.0.1:PORT"""
    company_token: str
    user_token: str
    certificate: CertificateFiles
    state: AvidState
    """Direct inspection: vendors, enterprise_codes, invoices, payments."""
    controls: AvidControls
    """Approve, pay, void; latency, faults and the rate limit; call counts."""
    clock: SimClock
    company_header: str = "X-Company-Token"
    user_header: str = "X-User-Token"

    @property
    def headers(self) -> dict[str, str]:
        """The two token headers, for raw httpx calls."""
        return {self.company_header: self.company_token, self.user_header: self.user_token}


@contextmanager
def running_avid(
    tmp_dir: Path,
    *,
    company_token: str = "test-company-token",  # noqa: S107 - a test fixture's token
    user_token: str = "test-user-token",  # noqa: S107
    company_header: str = "X-Company-Token",
    user_header: str = "X-User-Token",
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
    monotonic: Monotonic = time.monotonic,
) -> Iterator[RunningAvid]:
    """``monotonic``: the rate limit's clock; pass a ``ManualMonotonic`` to move it by hand."""
    settings = SimSettings(
        company_token=SecretStr(company_token),
        user_token=SecretStr(user_token),
        company_header=company_header,
        user_header=user_header,
        max_image_bytes=max_image_bytes,
    )
    simulator = start_simulator(settings, simulator_certificate(tmp_dir), monotonic=monotonic)
    try:
        yield RunningAvid(
            url=simulator.server.url,
            company_token=company_token,
            user_token=user_token,
            certificate=simulator.certificate,
            state=simulator.state,
            controls=simulator.controls,
            clock=simulator.state.clock,
            company_header=company_header,
            user_header=user_header,
        )
    finally:
        simulator.server.stop()
