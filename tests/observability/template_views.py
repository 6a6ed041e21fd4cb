"""The template's dashboard and alarms, resolved for one deployment, and what the functions' EMF lines emitted."""

from __future__ import annotations

import ast
import json
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml_local.template import load_sam_template, resources_of_type

SERVICE = "ml-connector"
Dimensions = frozenset[tuple[str, str]]


@dataclass(frozen=True)
class MetricId:
    namespace: str
    name: str
    dimensions: Dimensions


def _substitute(text: str, values: Mapping[str, str]) -> str:
    return re.sub(r"\$\{([^}]+)\}", lambda m: values.get(m.group(1), f"<{m.group(1)}>"), text)


def _resolve(value: Any, values: Mapping[str, str]) -> Any:
    """Ref / Fn::GetAtt / Fn::Sub of the template, with every unknown name as ``<name>``."""
    if isinstance(value, list):
        return [_resolve(v, values) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return values.get(value["Ref"], f"<{value['Ref']}>")
    if set(value) == {"Fn::GetAtt"}:
        name = ".".join(value["Fn::GetAtt"]) if isinstance(value["Fn::GetAtt"], list) else value["Fn::GetAtt"]
        return values.get(name, f"<{name}>")
    if set(value) == {"Fn::Sub"}:
        return _substitute(value["Fn::Sub"], values)
    return {k: _resolve(v, values) for k, v in value.items()}


def dashboard_metrics(environment: str) -> set[MetricId]:
    """Every (namespace, metric, dimension set) a metric widget of the dashboard charts."""
    template = load_sam_template()
    body = _resolve(template["Resources"]["Dashboard"]["Properties"]["DashboardBody"], {"EnvironmentName": environment})
    found = set()
    for widget in json.loads(body)["widgets"]:
        for row in widget["properties"].get("metrics", []):
            parts = [p for p in row if not isinstance(p, dict)]
            assert "." not in parts and "..." not in parts, f"write dashboard rows out in full: {row}"
            namespace, name, *pairs = parts
            found.add(MetricId(namespace, name, frozenset(zip(pairs[::2], pairs[1::2], strict=True))))
    return found


def dashboard_widgets(environment: str) -> list[dict[str, Any]]:
    template = load_sam_template()
    body = _resolve(template["Resources"]["Dashboard"]["Properties"]["DashboardBody"], {"EnvironmentName": environment})
    widgets: list[dict[str, Any]] = json.loads(body)["widgets"]
    return widgets


def alarms(environment: str) -> dict[str, dict[str, Any]]:
    """Each alarm's properties, with the deployment's own values where the test needs them."""
    template = load_sam_template()
    return {
        logical_id: _resolve(resource["Properties"], {"EnvironmentName": environment})
        for logical_id, resource in resources_of_type(template, "AWS::CloudWatch::Alarm")
    }


def alarm_metrics(alarm: dict[str, Any]) -> dict[str, MetricId]:
    """The alarm's metrics by query id (``m`` for a single-metric alarm)."""

    def metric_id(namespace: str, name: str, dims: Iterable[dict[str, str]]) -> MetricId:
        return MetricId(namespace, name, frozenset((d["Name"], d["Value"]) for d in dims))

    if "MetricName" in alarm:
        return {"m": metric_id(alarm["Namespace"], alarm["MetricName"], alarm.get("Dimensions", []))}
    return {
        query["Id"]: metric_id(
            query["MetricStat"]["Metric"]["Namespace"],
            query["MetricStat"]["Metric"]["MetricName"],
            query["MetricStat"]["Metric"].get("Dimensions", []),
        )
        for query in alarm["Metrics"]
        if "MetricStat" in query
    }


def emitted_metrics(log_lines: Iterable[str]) -> dict[MetricId, list[float]]:
    """Every metric an EMF line declared, with its values."""
    emitted: dict[MetricId, list[float]] = {}
    for line in log_lines:
        if '"_aws"' not in line:
            continue
        try:
            blob = json.loads(line)
        except json.JSONDecodeError:
            continue
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dims = frozenset((d, str(blob[d])) for d in dimension_set)
                for metric in directive["Metrics"]:
                    values = blob[metric["Name"]]
                    values = values if isinstance(values, list) else [values]
                    key = MetricId(directive["Namespace"], metric["Name"], dims)
                    emitted.setdefault(key, []).extend(float(v) for v in values)
    return emitted


def function_log_lines(log_dir: Path) -> list[str]:
    return [line for path in sorted(log_dir.glob("*.log")) for line in path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------- alarm evaluation (what CloudWatch would do)

_STATISTICS: dict[str, Callable[[list[float]], float]] = {
    "Sum": sum,
    "Maximum": max,
    "Minimum": min,
    "Average": lambda v: sum(v) / len(v),
    "SampleCount": lambda v: float(len(v)),
}
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_COMPARE = {ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Lt: operator.lt, ast.LtE: operator.le}


def _expression(text: str, series: Mapping[str, float | None]) -> float | None:
    """CloudWatch metric math for one period: + - * /, comparisons, IF(c, a, b) and FILL(m, value)."""

    def value(node: ast.expr) -> float | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            return series[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = value(node.left), value(node.right)
            return None if left is None or right is None else float(_BINARY[type(node.op)](left, right))
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            left, right = value(node.left), value(node.comparators[0])
            return None if left is None or right is None else float(_COMPARE[type(node.ops[0])](left, right))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "FILL":
            filled = value(node.args[0])
            return value(node.args[1]) if filled is None else filled
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "IF":
            condition = value(node.args[0])
            return None if condition is None else value(node.args[1] if condition else node.args[2])
        raise AssertionError(f"metric math this test cannot evaluate: {ast.unparse(node)}")

    return value(ast.parse(text, mode="eval").body)


def alarm_state(alarm: dict[str, Any], periods: Sequence[Mapping[MetricId, list[float]]]) -> str:
    """ALARM or OK for the last EvaluationPeriods periods (oldest first) of datapoints per metric."""
    metrics = alarm_metrics(alarm)
    period_values: list[float | None] = []
    for datapoints in periods[-int(alarm["EvaluationPeriods"]) :]:
        if "MetricName" in alarm:
            values = datapoints.get(metrics["m"], [])
            period_values.append(_STATISTICS[alarm["Statistic"]](values) if values else None)
            continue
        series: dict[str, float | None] = {}
        for query in alarm["Metrics"]:
            if "MetricStat" in query:
                values = datapoints.get(metrics[query["Id"]], [])
                series[query["Id"]] = _STATISTICS[query["MetricStat"]["Stat"]](values) if values else None
        pending = [q for q in alarm["Metrics"] if "Expression" in q]
        while pending:  # expressions may use one another
            ready = [q for q in pending if all(n in series for n in _names(q["Expression"]))]
            assert ready, f"unresolvable expressions {[q['Id'] for q in pending]}"
            for query in ready:
                series[query["Id"]] = _expression(query["Expression"], series)
                pending.remove(query)
        (returned,) = [q["Id"] for q in alarm["Metrics"] if q.get("ReturnData", True)]
        period_values.append(series[returned])
    compare = _COMPARISONS[alarm["ComparisonOperator"]]
    missing = alarm.get("TreatMissingData", "missing")
    breaching = [
        (missing == "breaching") if v is None else compare(v, float(alarm["Threshold"])) for v in period_values
    ]
    needed = int(alarm.get("DatapointsToAlarm", alarm["EvaluationPeriods"]))
    return "ALARM" if sum(breaching) >= needed else "OK"


def _names(expression: str) -> set[str]:
    return {
        n.id
        for n in ast.walk(ast.parse(expression, mode="eval"))
        if isinstance(n, ast.Name) and n.id not in ("IF", "FILL")
    }
