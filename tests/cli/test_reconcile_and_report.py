"""mlc reconcile and mlc report against the local stack, with a live agent and AvidXchange simulator over HTTPS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml_connector.adapters.customer_systems import open_customer_systems
from ml_connector.domain.avid import AvidVendor
from ml_connector.observability import metrics
from ml_local.session import LocalStack
from tests.cli.conftest import Mlc
from tests.reconcile.company import mirror_company, secrets_of
from tests.support.system import connected_customer


@pytest.fixture(autouse=True)
def metrics_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clients record each call's latency as a metric, and Powertools publishes every 100th value (to stdout,
    with a namespace the functions get from the template). Outside Lambda that breaks the CLI: reported to the lead;
    until the clients stop doing it outside a function, these tests give it a namespace and start empty."""
    monkeypatch.setattr(metrics, "namespace", "ml-connector-tests")
    metrics.clear_metrics()


def test_reconcile_says_when_the_ledgers_agree_and_lists_what_to_do_when_not(
    mlc: Mlc, stack: LocalStack, tmp_path: Path, customer_id: str
) -> None:
    with connected_customer(stack, tmp_path, customer_id, seed="empty") as connected:
        secrets = secrets_of(connected.agent, connected.avid)
        with open_customer_systems(connected.customer, secrets) as (agent, avid):
            mirror_company(connected.customer, agent, avid, connected.avid.controls, stack.state_store())
            agreed = mlc("reconcile", customer_id)
            avid.upsert_vendors([AvidVendor(external_vendor_code="01-GHOST", name="Ghost Supply")])
        page = tmp_path / "reconcile.html"
        metrics.clear_metrics()
        drifted = mlc("reconcile", customer_id, "--json", "--html", str(page))
        text = mlc("reconcile", customer_id)

    assert agreed.code == 0, agreed.err + agreed.out
    assert agreed.out.startswith(f"reconcile {customer_id}: in agreement")
    assert drifted.code == 1, drifted.err
    assert drifted.err == "", drifted.err
    report = json.loads(drifted.out)
    assert [(line["kind"], line["subject"]) for line in report["lines"]] == [("vendor_not_in_sage", "vendor 01-GHOST")]
    assert report["avid"]["codes"] == report["sage"]["codes"] > 0
    assert "vendor 01-GHOST  [vendor_not_in_sage]" in text.out
    assert "do:    deactivate it in AvidXchange" in text.out
    assert "vendor 01-GHOST" in page.read_text(encoding="utf-8")


def test_report_writes_a_self_contained_page_with_latency_and_the_reconciliation(
    mlc: Mlc, stack: LocalStack, tmp_path: Path, customer_id: str
) -> None:
    with connected_customer(stack, tmp_path, customer_id, seed="empty"):
        saved = tmp_path / "reconcile.json"
        reconciled = mlc("reconcile", customer_id, "--json")
        saved.write_text(reconciled.out, encoding="utf-8")
        page = tmp_path / "status.html"

        result = mlc("report", customer_id, "--html", str(page), "--reconciliation", str(saved))

    assert result.code == 0, result.err
    html = page.read_text(encoding="utf-8")
    assert 'data-panel="latency"' in html and " ms<" in html
    assert "disagreement(s)" in html  # the empty company's chart of accounts is not in AvidXchange yet
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html


def test_report_refuses_another_customers_reconciliation(mlc: Mlc, tmp_path: Path, customer_id: str) -> None:
    saved = tmp_path / "other.json"
    saved.write_text('{"customer_id": "someone-else"}', encoding="utf-8")

    result = mlc("report", customer_id, "--html", str(tmp_path / "p.html"), "--reconciliation", str(saved))

    assert result.code == 2
    assert "not the output of `mlc reconcile ID --json`" in result.err
