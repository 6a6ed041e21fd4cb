"""Builds a simulator (state, controls, app) and serves it over HTTPS; shared by ``testing`` and the CLI."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from avid_sim.app import create_app
from avid_sim.clock import Monotonic, SimClock
from avid_sim.controls import AvidControls
from avid_sim.faults import FaultPlan
from avid_sim.rate_limit import RateLimiter
from avid_sim.settings import SimSettings
from avid_sim.state import AvidState
from sage_agent.serving import BackgroundServer, serve_https_in_thread
from sage_agent.tls import CertificateFiles, ensure_self_signed_certificate


@dataclass
class Simulator:
    settings: SimSettings
    state: AvidState
    controls: AvidControls
    certificate: CertificateFiles
    server: BackgroundServer


def simulator_certificate(directory: Path) -> CertificateFiles:
    files, _ = ensure_self_signed_certificate(
        directory / "avid-sim-cert.pem", directory / "avid-sim-key.pem", common_name="avid-sim"
    )
    return files


def start_simulator(
    settings: SimSettings,
    certificate: CertificateFiles,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    state: AvidState | None = None,
    seed: int = 4242,
    monotonic: Monotonic = time.monotonic,
) -> Simulator:
    """``monotonic`` drives the rate limit's token bucket (tests pass a ``ManualMonotonic``)."""
    if state is None:
        state = AvidState(clock=SimClock(), seed=seed)
    controls = AvidControls(state, FaultPlan(seed=seed), RateLimiter(settings.rate_limit, clock=monotonic))
    server = serve_https_in_thread(create_app(controls, settings), certificate, host=host, port=port)
    return Simulator(settings, state, controls, certificate, server)
