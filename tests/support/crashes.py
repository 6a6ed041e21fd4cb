"""Arms crashes at the connector's named fault points for a local function (see ``ml_local.crash_rules``).

arm_crash(stack.runtime, "InvoicesFunction", "invoice.created", at=3)   # the 3rd create kills its worker
...drive the stack...
assert fired_crashes(stack.runtime, "InvoicesFunction") == ["invoice.created"]
"""

from __future__ import annotations

from pathlib import Path

from ml_connector import fault_points
from ml_local.crash_rules import CrashRules, locked_rules
from ml_local.lambda_runtime import LocalLambda

KNOWN_POINTS = frozenset(
    line.split()[0]
    for line in (fault_points.__doc__ or "").split("Points:", 1)[-1].splitlines()
    if line.strip() and not line.startswith(" " * 8)
)


def _rule_file(runtime: LocalLambda, function: str) -> Path:
    path = runtime.crash_file_of(function)
    if path is None:
        raise ValueError("this runtime was started without a crash directory")
    return path


def arm_crash(runtime: LocalLambda, function: str, point: str, *, at: int = 1) -> None:
    """The ``at``-th time any worker of ``function`` reaches ``point`` from now, that worker dies (exit 137)."""
    if point not in KNOWN_POINTS:
        raise ValueError(f"unknown fault point {point!r}; known: {', '.join(sorted(KNOWN_POINTS))}")
    if at < 1:
        raise ValueError(f"at must be 1 or more, not {at}")
    with locked_rules(_rule_file(runtime, function)) as rules:
        rules.armed[point] = at


def spend_budget_every(runtime: LocalLambda, function: str, checks: int) -> None:
    """From now, every ``checks``-th time-budget check of ``function`` finds the budget spent (it continues)."""
    if checks < 1:
        raise ValueError(f"checks must be 1 or more, not {checks}")
    with locked_rules(_rule_file(runtime, function)) as rules:
        rules.budget_spent_every, rules.budget_checks = checks, 0


def fired_crashes(runtime: LocalLambda, function: str) -> list[str]:
    """The points that killed a worker of ``function`` since it was last disarmed, in order."""
    with locked_rules(_rule_file(runtime, function)) as rules:
        return list(rules.crashed)


def disarm(runtime: LocalLambda, function: str) -> CrashRules:
    """Remove every rule of ``function`` (and forget what fired); returns what was there."""
    with locked_rules(_rule_file(runtime, function)) as rules:
        before = rules.model_copy(deep=True)
        rules.armed.clear()
        rules.crashed.clear()
        rules.budget_spent_every, rules.budget_checks = None, 0
    return before
