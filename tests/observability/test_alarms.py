"""Each alarm of template.yaml, evaluated as CloudWatch would (moto does not) against its metric driven past its
threshold, and left alone when healthy."""

from __future__ import annotations

from typing import Any

import pytest

from tests.observability.template_views import MetricId, alarm_metrics, alarm_state, alarms

ALARMS = alarms("prod")
REQUIRED = {
    "RecordDeadLetterAlarm", "RecordDeadLetterAgeAlarm", "WorkDeadLetterAlarm", "StageErrorRateAlarm",
    "CustomerOverdueAlarm", "AgentUnreachableAlarm", "DispatcherNotRunningAlarm", "CustomersInvalidAlarm",
    "CustomersDeferredAlarm", "InvoicesDriftedAlarm", "ReconciliationDriftAlarm",
}  # fmt: skip


def test_the_template_has_every_alarm_the_ap_team_relies_on() -> None:
    assert set(ALARMS) >= REQUIRED
    for logical_id, alarm in ALARMS.items():
        assert alarm["AlarmActions"] == ["<AlarmTopic>"], logical_id


def _single_metric_periods(alarm: dict[str, Any], *, breach: bool) -> list[dict[MetricId, list[float]]]:
    metric = alarm_metrics(alarm)["m"]
    threshold = float(alarm["Threshold"])
    above = alarm["ComparisonOperator"].startswith("GreaterThan")
    value = (threshold + 1 if above else threshold - 1) if breach else threshold + (0 if above else 1)
    return [{metric: [max(value, 0.0)]} for _ in range(int(alarm["EvaluationPeriods"]))]


@pytest.mark.parametrize("logical_id", sorted(a for a in ALARMS if "MetricName" in ALARMS[a]))
def test_a_single_metric_alarm_fires_past_its_threshold_and_not_before(logical_id: str) -> None:
    alarm = ALARMS[logical_id]
    assert alarm_state(alarm, _single_metric_periods(alarm, breach=True)) == "ALARM"
    assert alarm_state(alarm, _single_metric_periods(alarm, breach=False)) == "OK"


def test_one_failed_stage_run_among_many_does_not_alarm_but_a_failing_tenth_does() -> None:
    alarm = ALARMS["StageErrorRateAlarm"]
    metrics = alarm_metrics(alarm)

    def period(errors: int, invocations: int) -> dict[MetricId, list[float]]:
        # All of it on the invoices function; the other functions report nothing at all (FILL makes that 0).
        return {metrics["ei"]: [float(errors)], metrics["ii"]: [float(invocations)]}

    assert alarm_state(alarm, [period(1, 50)] * 3) == "OK"
    assert alarm_state(alarm, [period(1, 1), period(0, 40), period(0, 40)]) == "OK"  # one bad period of three
    assert alarm_state(alarm, [period(0, 40), period(5, 40), period(6, 40)]) == "ALARM"
    assert alarm_state(alarm, [{}, {}, {}]) == "OK"  # nothing ran


def test_a_dispatcher_that_stops_running_alarms_on_missing_data() -> None:
    alarm = ALARMS["DispatcherNotRunningAlarm"]
    (metric,) = alarm_metrics(alarm).values()
    assert alarm_state(alarm, [{}]) == "ALARM"
    assert alarm_state(alarm, [{metric: [1.0, 1.0, 1.0]}]) == "OK"


def test_the_overdue_alarm_reads_the_dimension_set_the_dispatcher_emits() -> None:
    (metric,) = alarm_metrics(ALARMS["CustomerOverdueAlarm"]).values()
    assert metric == MetricId(
        "MLConnector", "CustomersOverdue", frozenset({("environment", "prod"), ("service", "ml-connector")})
    )
