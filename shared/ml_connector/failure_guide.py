"""What an open failure is about, said so that a person can act: its kind (the reason with the record taken out, so
failures with one cause fall together) and the fix to try."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from ml_connector.kinds import Stage
from ml_connector.model import Model
from ml_connector.state.models import FailedRecord

# "invoice 01-ACME/10045: " and the like: the record a message is about, not why it failed.
_RECORD_PREFIX = re.compile(r"^[a-z-]+ [^:\s]+(?: [^:\s]+)?: ")
_NUMBERS = re.compile(r"\d+(?:[.,]\d+)*")
# Record keys and ids inside a message: `01-ACME`, `6100-02-300`, `P-7781234`, quoted values.
_KEYS = re.compile(r"\b[0-9A-Z]+(?:[-/][0-9A-Z]+)+\b|'[^']*'|\"[^\"]*\"")
# The clause of an error that says what to do starts with one of these.
_ACTIONS = ("fix", "correct", "reactivate", "resolve", "void", "run", "check", "replay", "create", "add", "release")


class FailureGroup(Model):
    stage: Stage
    kind: str
    reason: str
    """The error with the record and its figures taken out."""
    count: int
    example: str
    """One failure's full error."""
    fix: str = ""


def failure_reason(error: str) -> str:
    """``invoice 01-ACME/10045: GL account 6100-02-300 is not active`` -> ``GL account # is not active``."""
    without_record = _RECORD_PREFIX.sub("", error, count=1)
    return _NUMBERS.sub("#", _KEYS.sub("#", without_record))


def failure_kind(failure: FailedRecord) -> str:
    """One customer's kind of failure: stage, record kind and reason (what the alerts remember as published)."""
    return f"{failure.stage}/{failure.kind}/{failure_reason(failure.error)}"


def suggested_fix(failure: FailedRecord) -> str:
    """The error's own advice when it gives one (its last clause), else what the failure's state calls for."""
    *_, last = failure.error.rsplit("; ", 1) if "; " in failure.error else ("", "")
    if last.split(" ", 1)[0].lower() in _ACTIONS:
        return last
    if failure.waiting:
        return f"nothing: it goes through by itself in the first cycle after {failure.blocked_by} clears"
    if failure.flagged:
        return "set it right in AvidXchange or Sage 100, then `mlc replay --record` it"
    if failure.retryable:
        return "nothing yet: it is retried with growing delays; if it reaches the DLQ, fix the cause and `mlc replay`"
    return "fix the record at its source, then `mlc replay --record` it"


def group_failures(failures: Iterable[FailedRecord]) -> list[FailureGroup]:
    """Open failures by (stage, kind, reason), the largest group first."""
    counts: Counter[tuple[Stage, str, str]] = Counter()
    examples: dict[tuple[Stage, str, str], FailedRecord] = {}
    for failure in failures:
        group = (failure.stage, failure.kind, failure_reason(failure.error))
        counts[group] += 1
        examples.setdefault(group, failure)
    return [
        FailureGroup(
            stage=stage,
            kind=kind,
            reason=reason,
            count=count,
            example=examples[(stage, kind, reason)].error,
            fix=suggested_fix(examples[(stage, kind, reason)]),
        )
        for (stage, kind, reason), count in counts.most_common()
    ]
