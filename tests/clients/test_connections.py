from __future__ import annotations

import pytest
from pydantic import ValidationError

from ml_connector.connections import AgentConnection, AgentTls, AvidConnection, TlsMode
from sage_agent.tls import CertificateFiles

FINGERPRINT = "AB:" * 31 + "CD"


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


def test_ca_bundle_accepts_a_real_certificate(certificate: CertificateFiles) -> None:
    tls = AgentTls(mode=TlsMode.CA_BUNDLE, ca_bundle_pem=certificate.cert_path.read_text())
    assert tls.ca_bundle_pem is not None


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
