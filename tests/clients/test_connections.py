from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from pydantic import ValidationError

from ml_connector.adapters.agent_tls import CertificatePinMismatch, agent_transport
from ml_connector.adapters.avid_client import avid_transport
from ml_connector.connections import AgentConnection, AgentTls, AvidConnection, TlsMode
from sage_agent.tls import CertificateFiles

from .tls_recorder import TlsRecorder

FINGERPRINT = "AB:" * 31 + "CD"
SERVED = {"served_by": "test-server"}


def test_fingerprint_is_normalised_to_lower_case_hex() -> None:
    tls = AgentTls(mode=TlsMode.PINNED, fingerprint_sha256=FINGERPRINT)
    assert tls.fingerprint_sha256 == "ab" * 31 + "cd"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"mode": "pinned"}, "needs fingerprint_sha256"),
        ({"mode": "pinned", "fingerprint_sha256": "abcd"}, "64 hex digits"),
        ({"mode": "ca_bundle"}, "needs ca_bundle_pem"),
        ({"mode": "ca_bundle", "ca_bundle_pem": "not a certificate"}, "no usable PEM"),
        ({"mode": "system", "fingerprint_sha256": FINGERPRINT}, "only used with tls mode pinned"),
        ({"mode": "tofu"}, "mode"),
    ],
)
def test_tls_settings_must_match_their_mode(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AgentTls.model_validate(settings)


def _agent_ca_bundle(trusted: CertificateFiles) -> httpx.BaseTransport:
    pem = trusted.cert_path.read_text()
    tls = AgentTls(mode=TlsMode.CA_BUNDLE, ca_bundle_pem=pem)
    assert tls.ca_bundle_pem == pem, "the bundle is kept as configured"
    return agent_transport(tls, limits=httpx.Limits(), logger=logging.getLogger(__name__), agent_url="test")


def _agent_pinned(trusted: CertificateFiles) -> httpx.BaseTransport:
    # As an operator pastes it: upper case, colon-separated.
    pasted = ":".join(trusted.fingerprint_sha256[i : i + 2] for i in range(0, 64, 2)).upper()
    tls = AgentTls(mode=TlsMode.PINNED, fingerprint_sha256=pasted)
    return agent_transport(tls, limits=httpx.Limits(), logger=logging.getLogger(__name__), agent_url="test")


def _avid_ca_bundle(trusted: CertificateFiles) -> httpx.BaseTransport:
    pem = trusted.cert_path.read_text()
    connection = AvidConnection(base_url="https://api.avidxchange.example", ca_bundle_pem=pem)
    assert connection.ca_bundle_pem == pem, "the bundle is kept as configured"
    return avid_transport(connection)


@pytest.mark.parametrize(
    ("trusting", "refusal", "message"),
    [
        (_agent_ca_bundle, httpx.ConnectError, "CERTIFICATE_VERIFY_FAILED"),
        (_agent_pinned, CertificatePinMismatch, "interception attempt"),
        (_avid_ca_bundle, httpx.ConnectError, "CERTIFICATE_VERIFY_FAILED"),
    ],
    ids=["agent-ca-bundle", "agent-pinned", "avid-ca-bundle"],
)
def test_a_connection_trusts_the_configured_self_signed_certificate_and_refuses_another(
    trusting: Callable[[CertificateFiles], httpx.BaseTransport],
    refusal: type[Exception],
    message: str,
    certificate: CertificateFiles,
    other_certificate: CertificateFiles,
) -> None:
    with TlsRecorder(certificate, SERVED) as server:
        with httpx.Client(transport=trusting(certificate)) as trusted:
            assert trusted.get(server.url).json() == SERVED
        with httpx.Client(transport=trusting(other_certificate)) as impostor, pytest.raises(refusal, match=message):
            impostor.get(server.url)
        assert server.handled(2)[1] == b"", "nothing is sent to a server that is not trusted"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"company": "rcc"}, "company"),
        ({"company": "RCCX"}, "company"),
        ({"base_url": "http://agent.example.com:8443"}, "https://"),
        ({"page_size": 1001}, "page_size"),
    ],
)
def test_agent_connection_validation(overrides: dict[str, object], message: str) -> None:
    settings: dict[str, object] = {"base_url": "https://agent.example.com:8443/", "company": "RCC", **overrides}
    with pytest.raises(ValidationError, match=message):
        AgentConnection.model_validate(settings)


def test_agent_connection_defaults() -> None:
    connection = AgentConnection(base_url="https://agent.example.com:8443/", company="RCC")
    assert connection.base_url == "https://agent.example.com:8443"
    assert connection.tls.mode is TlsMode.SYSTEM
    assert connection.page_size == 500


def test_avid_connection_defaults_and_header_names() -> None:
    connection = AvidConnection(base_url="https://api.avidxchange.example")
    assert (connection.company_token_header, connection.user_token_header) == ("X-Company-Token", "X-User-Token")
    assert connection.max_in_flight == 4
    with pytest.raises(ValidationError, match="company_token_header"):
        AvidConnection(base_url="https://api.avidxchange.example", company_token_header="X Token\n")
