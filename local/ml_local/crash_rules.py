"""Crashes a test arms for a local function: at the Nth time any of its workers reaches a named fault point
(``ml_connector.fault_points``), that worker process dies as Lambda kills one (exit 137, no cleanup).

The rules live in one JSON file per function, shared by all of its workers and by the test that writes it; every
read-modify-write holds an exclusive lock, so concurrent workers count reaches exactly once each.

    {"armed": {"invoice.created": 3}, "crashed": ["budget.check"]}

``armed`` maps a point to how many more reaches end in a crash (1 = the next one); a rule is spent once it fires.
``crashed`` lists the points that fired, in order, for the test to check. ``budget_spent_every`` makes every Nth
time-budget check of the function find its budget spent, so a test gets continuations without racing a timeout.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, Field

CRASH_EXIT_CODE = 137  # what a process killed with SIGKILL reports
# The environment variable that names a function's rule file in its worker processes.
CRASH_FILE_VARIABLE = "ML_LOCAL_CRASH_FILE"


class CrashRules(BaseModel):
    armed: dict[str, int] = Field(default_factory=dict)
    crashed: list[str] = Field(default_factory=list)
    budget_spent_every: int | None = None
    """Every Nth ``budget.check`` of the function (counted over all its workers) finds the time budget spent."""
    budget_checks: int = 0


@contextmanager
def locked_rules(path: Path) -> Iterator[CrashRules]:
    """The rules, held under an exclusive lock; what the caller changes is written back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        text = handle.read()
        rules = CrashRules.model_validate_json(text) if text.strip() else CrashRules()
        yield rules
        handle.seek(0)
        handle.truncate()
        handle.write(rules.model_dump_json())
        handle.flush()


def budget_spent(path: Path) -> bool:
    """Count one ``budget.check``; True when the rules say this one finds the budget spent."""
    if not path.exists():
        return False
    with locked_rules(path) as rules:
        if rules.budget_spent_every is None:
            return False
        rules.budget_checks += 1
        return rules.budget_checks % rules.budget_spent_every == 0


def should_crash(path: Path, point: str) -> bool:
    """Count one reach of ``point``; True when an armed rule fires on it (the rule is then spent)."""
    if not path.exists():
        return False
    with locked_rules(path) as rules:
        remaining = rules.armed.get(point)
        if remaining is None:
            return False
        if remaining > 1:
            rules.armed[point] = remaining - 1
            return False
        del rules.armed[point]
        rules.crashed.append(point)
        return True
