"""What the functions emit during a full local cycle is exactly what the dashboard and alarms read, and stays a
fixed handful of aggregate metrics whatever the number of customers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ml_connector.connections import AgentTls, TlsMode
from ml_local.session import LocalStack
from tests.observability.template_views import (
    MetricId,
    alarm_metrics,
    alarms,
    dashboard_metrics,
    dashboard_widgets,
    emitted_metrics,
    function_log_lines,
)
from tests.support.system import ConnectedCustomer, configure_customer, connected_customer

CUSTOMERS = ("obs-pinned", "obs-insecure")
NAMESPACE = "MLConnector"
AGGREGATE_DIMENSIONS = {"environment", "service", "stage"}


@pytest.fixture(scope="module")
def emitted(fresh_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[MetricId, list[float]]]:
    """Two customers (one with TLS verification off, allowed in dev) through one whole cycle, dispatcher first."""
    with connected_customer(fresh_stack, tmp_path_factory.mktemp("obs"), CUSTOMERS[0]) as system:
        insecure = ConnectedCustomer(
            fresh_stack,
            system.agent,
            system.avid,
            configure_customer(fresh_stack, system.agent, system.avid, CUSTOMERS[1]),
        )
        insecure.update_customer(
            agent=insecure.customer.agent.model_copy(update={"tls": AgentTls(mode=TlsMode.INSECURE)})
        )
        fresh_stack.driver.fire_schedules()
        fresh_stack.driver.drain()
        fresh_stack.driver.fire_schedules()  # reports the finished cycle: backlog, nobody overdue
        yield emitted_metrics(function_log_lines(fresh_stack.work_dir / "logs"))


def _ours(metrics: set[MetricId]) -> set[MetricId]:
    return {m for m in metrics if m.namespace == NAMESPACE}


def _read_by_alarms() -> set[MetricId]:
    return {m for alarm in alarms("dev").values() for m in alarm_metrics(alarm).values()}


def test_every_custom_metric_the_dashboard_and_alarms_read_is_emitted(emitted: dict[MetricId, list[float]]) -> None:
    wanted = _ours(dashboard_metrics("dev") | _read_by_alarms())
    missing = wanted - set(emitted)
    assert not missing, f"read but never emitted: {sorted((m.name, sorted(m.dimensions)) for m in missing)}"


def test_every_emitted_metric_is_shown_on_the_dashboard(emitted: dict[MetricId, list[float]]) -> None:
    unseen = set(emitted) - dashboard_metrics("dev")
    assert not unseen, f"emitted but shown nowhere: {sorted((m.name, sorted(m.dimensions)) for m in unseen)}"


def test_metrics_are_aggregates_whose_number_does_not_grow_with_customers(
    emitted: dict[MetricId, list[float]],
) -> None:
    for metric in emitted:
        assert {name for name, _ in metric.dimensions} <= AGGREGATE_DIMENSIONS, metric
        assert not {value for _, value in metric.dimensions} & set(CUSTOMERS), metric
    # Everything emitted is one of the dashboard's own rows, a list written in the template: the same for 2 customers
    # as for 5,000.
    assert len(emitted) <= len(_ours(dashboard_metrics("dev")))


def test_the_cycle_reported_real_figures(emitted: dict[MetricId, list[float]]) -> None:
    by_name: dict[str, list[float]] = {}
    for metric, values in emitted.items():
        by_name.setdefault(metric.name, []).extend(values)
    assert sum(by_name["RecordsSynced"]) > 0
    assert sum(by_name["InsecureTlsRuns"]) > 0
    assert by_name["AgentCallLatency"] and min(by_name["AgentCallLatency"]) > 0
    assert by_name["AvidCallLatency"] and min(by_name["AvidCallLatency"]) > 0
    assert sum(by_name["DispatchCycles"]) == 2


def test_per_customer_views_come_from_the_logs(fresh_stack: LocalStack, emitted: dict[MetricId, list[float]]) -> None:
    widgets = dashboard_widgets("dev")
    rules = {w["properties"]["insightRule"]["ruleName"] for w in widgets if "insightRule" in w["properties"]}
    assert rules == {"ml-connector-dev-busiest-customers", "ml-connector-dev-failing-customers"}
    assert any(w["type"] == "log" and "failure_reason" in w["properties"]["query"] for w in widgets)
    lines = function_log_lines(fresh_stack.work_dir / "logs")
    finished = [line for line in lines if '"stage run finished"' in line]
    assert any(f'"customer_id":"{CUSTOMERS[0]}"' in line and '"counts"' in line for line in finished)
    insecure = [line for line in lines if "TLS verification is OFF" in line and CUSTOMERS[1] in line]
    assert insecure, "a dev customer with TLS verification off is warned about on every run"


def test_log_files_are_where_the_readme_says(fresh_stack: LocalStack, emitted: dict[MetricId, list[float]]) -> None:
    assert (fresh_stack.work_dir / "logs" / "DispatcherFunction.log").exists()
    assert isinstance(fresh_stack.work_dir, Path)
