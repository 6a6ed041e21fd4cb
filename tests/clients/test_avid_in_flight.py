"""At most ``max_in_flight`` requests reach AvidXchange at once, however many threads call."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ml_connector.adapters.avid_client import AvidClient
from ml_connector.connections import AvidConnection
from sage_agent.tls import CertificateFiles

from .tls_recorder import TlsRecorder


def test_requests_in_flight_never_exceed_the_limit(certificate: CertificateFiles) -> None:
    with TlsRecorder(certificate, {"CompanyId": "C-1", "Name": "Acme"}, hold_seconds=0.1) as server:
        connection = AvidConnection(
            base_url=server.url, ca_bundle_pem=certificate.cert_path.read_text(), max_in_flight=2
        )
        with AvidClient(connection, "company-token", "user-token") as client, ThreadPoolExecutor(8) as pool:
            names = list(pool.map(lambda _: client.company().name, range(8)))
    assert names == ["Acme"] * 8
    assert server.max_concurrent == 2
