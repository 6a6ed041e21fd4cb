"""Shared fixtures for the client tests: certificates, and retry policies that record waits instead of sleeping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ml_connector.adapters.backoff import BackoffPolicy
from ml_connector.adapters.pacing import Pacer
from sage_agent.tls import CertificateFiles, ensure_self_signed_certificate


@dataclass
class FakeTime:
    """A clock that only moves when something sleeps; every sleep is recorded."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def policy_for(fake_time: FakeTime) -> Callable[..., BackoffPolicy]:
    """``policy_for(max_attempts=3, ...)``: a policy on the fake clock, jitter fixed at half the ceiling."""

    def build(**overrides: float) -> BackoffPolicy:
        settings: dict[str, object] = {
            "sleep": fake_time.sleep,
            "clock": fake_time.clock,
            "jitter": lambda: 0.5,
            **overrides,
        }
        return BackoffPolicy(**settings)  # type: ignore[arg-type]

    return build


@pytest.fixture
def pacer_time() -> FakeTime:
    """The pacer's own fake clock, apart from the retry policy's, so the waits of each can be told apart."""
    return FakeTime()


@pytest.fixture
def fake_pacer(pacer_time: FakeTime) -> Pacer:
    """The default pace (25 calls/s, burst 5) on ``pacer_time``: its waits and Retry-After pauses take no real time."""
    return Pacer(25.0, 5, clock=pacer_time.clock, sleep=pacer_time.sleep)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> CertificateFiles:
    folder: Path = tmp_path_factory.mktemp("tls")
    files, _ = ensure_self_signed_certificate(folder / "cert.pem", folder / "key.pem", common_name="test-server")
    return files


@pytest.fixture(scope="session")
def other_certificate(tmp_path_factory: pytest.TempPathFactory) -> CertificateFiles:
    folder: Path = tmp_path_factory.mktemp("tls-other")
    files, _ = ensure_self_signed_certificate(folder / "cert.pem", folder / "key.pem", common_name="impostor")
    return files
