"""TLS verification may be off only in a dev deployment (warned and counted on every run); a CA bundle for
AvidConnect adds to the system's CAs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_connector.adapters.agent_tls import system_trust
from ml_connector.admission import CustomerNotAdmitted, admit_customer
from ml_connector.customers import Customer
from ml_connector.observability import metrics
from sage_agent.tls import ensure_self_signed_certificate
from tests.support.customers import customer_item


def _insecure() -> Customer:
    item = customer_item("tls-co")
    item["agent"] = {**item["agent"], "tls": {"mode": "insecure"}}
    return Customer.model_validate(item)


def test_insecure_tls_is_refused_outside_dev() -> None:
    with pytest.raises(CustomerNotAdmitted, match="insecure is refused in the prod deployment"):
        admit_customer(_insecure(), environment="prod")


def test_insecure_tls_in_dev_warns_and_counts_every_run(caplog: pytest.LogCaptureFixture) -> None:
    metrics.clear_metrics()
    for _ in range(2):
        admit_customer(_insecure(), environment="dev")
    assert len([r for r in caplog.records if "TLS verification is OFF" in r.getMessage()]) == 2
    assert metrics.metric_set["InsecureTlsRuns"]["Value"] == [1.0, 1.0]
    metrics.clear_metrics()


def test_a_ca_bundle_adds_to_the_system_cas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system, _ = ensure_self_signed_certificate(tmp_path / "sys.pem", tmp_path / "sys.key", common_name="system-ca")
    extra, _ = ensure_self_signed_certificate(tmp_path / "x.pem", tmp_path / "x.key", common_name="customer-ca")
    monkeypatch.setenv("SSL_CERT_FILE", str(system.cert_path))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "none"))

    context = system_trust(extra.cert_path.read_text())

    subjects = {str(cert["subject"]) for cert in context.get_ca_certs()}
    assert len(subjects) == 2
    assert any("system-ca" in s for s in subjects)
    assert any("customer-ca" in s for s in subjects)
