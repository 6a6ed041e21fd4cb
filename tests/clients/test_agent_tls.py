"""The four TLS modes against a bare TLS server that records every byte a client sends after the handshake."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from ml_connector.adapters.agent_client import AgentClient
from ml_connector.adapters.backoff import BackoffPolicy
from ml_connector.connections import AgentConnection, AgentTls, TlsMode
from ml_connector.errors import AgentTlsFailed, CustomerUnavailable
from sage_agent.tls import CertificateFiles

from .conftest import FakeTime
from .tls_recorder import TlsRecorder

KEY = "pinned-test-agent-key"
HEALTH = {"agent_version": "1.0", "sage_version": "2024", "companies": ["RCC"], "server_time": "20261120T14:02:11"}
NO_RETRY = BackoffPolicy(max_attempts=1, server_error_attempts=1)


@pytest.fixture
def server(certificate: CertificateFiles) -> Iterator[TlsRecorder]:
    with TlsRecorder(certificate, HEALTH) as recorder:
        yield recorder


def client(url: str, tls: AgentTls, logger: logging.Logger | None = None) -> AgentClient:
    return AgentClient(AgentConnection(base_url=url, company="RCC", tls=tls), KEY, retry_policy=NO_RETRY, logger=logger)


def test_pinned_fingerprint_that_matches_connects(server: TlsRecorder, certificate: CertificateFiles) -> None:
    tls = AgentTls(mode=TlsMode.PINNED, fingerprint_sha256=certificate.fingerprint_sha256)
    with client(server.url, tls) as agent:
        assert agent.health().companies == ["RCC"]
    assert KEY.encode() in server.handled(1)[0]


def test_pinned_fingerprint_that_differs_sends_no_byte(
    server: TlsRecorder, other_certificate: CertificateFiles
) -> None:
    tls = AgentTls(mode=TlsMode.PINNED, fingerprint_sha256=other_certificate.fingerprint_sha256)
    with client(server.url, tls) as agent, pytest.raises(AgentTlsFailed) as caught:
        agent.health()
    assert isinstance(caught.value, CustomerUnavailable)
    assert other_certificate.fingerprint_sha256 in str(caught.value)
    assert server.handled(1) == [b""]
    assert KEY not in str(caught.value)


def test_pin_mismatch_is_not_retried(
    server: TlsRecorder,
    other_certificate: CertificateFiles,
    policy_for: Callable[..., BackoffPolicy],
    fake_time: FakeTime,
) -> None:
    tls = AgentTls(mode=TlsMode.PINNED, fingerprint_sha256=other_certificate.fingerprint_sha256)
    connection = AgentConnection(base_url=server.url, company="RCC", tls=tls)
    with AgentClient(connection, KEY, retry_policy=policy_for()) as agent, pytest.raises(AgentTlsFailed):
        agent.health()
    assert fake_time.sleeps == []


def test_ca_bundle_with_the_servers_certificate_connects(server: TlsRecorder, certificate: CertificateFiles) -> None:
    tls = AgentTls(mode=TlsMode.CA_BUNDLE, ca_bundle_pem=certificate.cert_path.read_text())
    with client(server.url, tls) as agent:
        assert agent.health().agent_version == "1.0"


@pytest.mark.parametrize("mode", [TlsMode.CA_BUNDLE, TlsMode.SYSTEM])
def test_untrusted_certificate_fails_before_the_key_is_sent(
    server: TlsRecorder, other_certificate: CertificateFiles, mode: TlsMode
) -> None:
    pem = other_certificate.cert_path.read_text() if mode is TlsMode.CA_BUNDLE else None
    with client(server.url, AgentTls(mode=mode, ca_bundle_pem=pem)) as agent, pytest.raises(AgentTlsFailed):
        agent.health()
    assert all(KEY.encode() not in data for data in server.handled(1))


def test_insecure_mode_connects_and_warns_on_every_client(
    server: TlsRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("test.insecure")
    with caplog.at_level(logging.WARNING, logger="test.insecure"):
        for _ in range(2):
            with client(server.url, AgentTls(mode=TlsMode.INSECURE), logger) as agent:
                assert agent.health().sage_version == "2024"
    warnings = [r.getMessage() for r in caplog.records if "TLS verification is OFF" in r.getMessage()]
    assert len(warnings) == 2
