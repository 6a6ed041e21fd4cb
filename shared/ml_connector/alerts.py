"""Alerts a person reads: a new kind of failure for a customer is published once to the alarm topic (SNS) with the
customer, the reason, how many records fail that way and what to do. Repeats stay quiet: each published kind is
remembered in the state table (it expires with the audit trail, so a kind that comes back months later is news again).

A kind is the failure's stage, record kind and reason with its record-specific parts (keys, numbers, amounts) taken
out (``ml_connector.failure_guide``). Waiting records are not failures and are never alerted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ml_connector.failure_guide import failure_kind, failure_reason, suggested_fix
from ml_connector.ports import AlertTopic, StateStore
from ml_connector.state.history import AlertedKind
from ml_connector.state.models import FailedRecord

# SNS: a subject is at most 100 ASCII characters.
_SUBJECT_LIMIT = 100


@dataclass(frozen=True)
class FailureAlert:
    customer_id: str
    kind: str
    count: int
    example: FailedRecord

    @property
    def subject(self) -> str:
        text = f"ml-connector: new failure for {self.customer_id}: {self.example.stage} {self.example.kind}"
        return text.encode("ascii", "replace").decode()[:_SUBJECT_LIMIT]

    @property
    def message(self) -> str:
        failure = self.example
        return "\n".join(
            [
                f"Customer: {self.customer_id}",
                f"Stage / record kind: {failure.stage} / {failure.kind}",
                f"Reason: {failure_reason(failure.error)}",
                f"Records failing this way now: {self.count}",
                f"What to do: {suggested_fix(failure)}",
                f"For example: {failure.error}",
                f"List them: mlc failures {self.customer_id} --by-reason",
                "",
                "This kind of failure is reported once for this customer; further records failing the same way are"
                " listed by `mlc failures`, not mailed.",
            ]
        )


def new_failure_kinds(customer_id: str, ledger: StateStore, now: dt.datetime) -> list[FailureAlert]:
    """The customer's kinds of open failure not alerted before, each now remembered as alerted."""
    by_kind: dict[str, list[FailedRecord]] = {}
    for failure in ledger.list_failures(customer_id):
        if not failure.waiting:
            by_kind.setdefault(failure_kind(failure), []).append(failure)
    alerts = []
    for kind, failures in by_kind.items():
        if ledger.claim_alert(AlertedKind(customer_id=customer_id, kind=kind, published_at=now, count=len(failures))):
            alerts.append(FailureAlert(customer_id, kind, len(failures), failures[0]))
    return alerts


def publish_new_failure_kinds(
    customer_id: str, ledger: StateStore, topic: AlertTopic, now: dt.datetime
) -> Sequence[FailureAlert]:
    alerts = new_failure_kinds(customer_id, ledger, now)
    for alert in alerts:
        topic.publish(alert.subject, alert.message)
    return alerts
