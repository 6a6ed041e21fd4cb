"""The reconcile function on the local stack, driven as AWS would drive it: the dispatcher queues a customer's
onboarding preview (``first_run_dry``) or its scheduled reconciliation, the driver delivers the reconcile queue, and
the result is kept for `mlc status`, with one aggregate ReconciliationDrift metric."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from ml_cli.__main__ import main
from ml_connector.kinds import Stage
from ml_connector.state.history import ReviewTask
from ml_local.session import STATE_FILE_NAME, LocalStack
from sage_agent.simulated.generator import CompanyShape
from tests.observability.template_views import emitted_metrics, function_log_lines
from tests.support.system import ConnectedCustomer, connected_customer

pytestmark = pytest.mark.slow

SMALL_COMPANY = CompanyShape(vendors=8, invoices=20, image_share=0.5)


@pytest.fixture(scope="module")
def onboarding(fresh_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectedCustomer]:
    tmp = tmp_path_factory.mktemp("reviews")
    with connected_customer(fresh_stack, tmp, "onboarding-co", seed=SMALL_COMPANY, first_run_dry=True) as system:  # type: ignore[arg-type]
        yield system


def sage_company(system: ConnectedCustomer) -> list[str]:
    with sqlite3.connect(system.agent.backend.db_path) as db:
        return list(db.iterdump())


def status_text(system: ConnectedCustomer, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    code = main(["status", system.customer_id, "--local", str(system.stack.work_dir / STATE_FILE_NAME)])
    out = capsys.readouterr().out
    assert code == 0
    return out


def test_an_onboarding_customer_is_previewed_once_then_syncs_and_is_reconciled_once_the_flag_is_cleared(
    onboarding: ConnectedCustomer, capsys: pytest.CaptureFixture[str]
) -> None:
    system, driver = onboarding, onboarding.stack.driver
    sage_before = sage_company(system)

    driver.fire_schedules()
    driver.drain()

    preview = system.state.get_review(system.customer_id, ReviewTask.PREVIEW)
    assert preview is not None and preview.finished_at is not None and preview.ok
    vendors = next(s for s in preview.summary["stages"] if s["stage"] == "vendors")
    assert vendors["create"] == 8
    invoices = next(s for s in preview.summary["stages"] if s["stage"] == "invoices")
    assert invoices["create"] > 0, "the invoices preview sees the vendors the vendors preview would sync"
    assert system.state.list_runs(system.customer_id) == [], "no stage ran"
    assert not system.avid.state.vendors and not system.avid.state.invoices
    assert sage_company(system) == sage_before
    assert system.state.get_review(system.customer_id, ReviewTask.RECONCILE) is None
    assert "onboarding preview" in status_text(system, capsys)

    driver.fire_schedules()
    driver.drain()
    assert system.state.list_runs(system.customer_id) == [], "a finished preview holds the customer back"

    system.update_customer(first_run_dry=False)
    driver.fire_schedules()
    driver.drain()

    assert {run.stage for run in system.state.list_runs(system.customer_id)} == set(Stage)
    assert len(system.avid.state.vendors) == 8
    reconciliation = system.state.get_review(system.customer_id, ReviewTask.RECONCILE)
    assert reconciliation is not None and reconciliation.finished_at is not None
    assert reconciliation.summary["customer_id"] == system.customer_id
    assert "reconciliation " in status_text(system, capsys)

    drift = [
        m
        for m in emitted_metrics(function_log_lines(system.stack.work_dir / "logs"))
        if m.name == "ReconciliationDrift"
    ]
    assert [sorted(name for name, _ in m.dimensions) for m in drift] == [["environment", "service"]]
