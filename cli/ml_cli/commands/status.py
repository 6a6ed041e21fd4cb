"""mlc status: per customer, its health, the last run of each stage, the lag since its last success, open failures."""

from __future__ import annotations

import argparse
import datetime as dt
from collections import Counter

from pydantic import BaseModel

from ml_cli.arguments import customer_id, deployment_from
from ml_cli.commands import Commands, SharedOptions
from ml_cli.commands.customer import known_customer
from ml_cli.deployment import Deployment
from ml_cli.output import duration, print_json, table, when
from ml_connector.customers import Customer, InvalidCustomer
from ml_connector.dispatch import is_paused
from ml_connector.kinds import Stage
from ml_connector.state.history import ReviewRecord, ReviewTask
from ml_connector.state.models import CustomerHealth, HealthStatus, RunCounts, RunState


class StageStatus(BaseModel):
    stage: Stage
    state: RunState | None
    updated_at: dt.datetime | None
    finished_at: dt.datetime | None
    last_success_at: dt.datetime | None
    lag_seconds: int | None
    """Time since the stage last succeeded; None if it never has."""
    counts: RunCounts | None
    message: str | None


class CustomerStatus(BaseModel):
    customer_id: str
    display_name: str | None
    enabled: bool | None
    problems: list[str]
    """Why the customer item is invalid (then the dispatcher skips it); empty when valid."""
    health: CustomerHealth | None
    paused: bool
    stages: list[StageStatus]
    open_failures: int
    reconciliation: ReviewRecord | None = None
    """The latest scheduled reconciliation (its summary), if one ran."""
    preview: ReviewRecord | None = None
    """The onboarding preview (``first_run_dry``), if one ran."""


def register(commands: Commands, shared: SharedOptions) -> None:
    status = commands.add_parser(
        "status",
        parents=[shared.target, shared.as_json],
        help="health, last runs, lag and open failures per customer",
        description="Per customer (or just ID): health (paused? why, until when), the last run of each stage "
        "(state, when, counts, message), the lag since each stage last succeeded, and the open failures.",
    )
    status.add_argument("customer_id", type=customer_id, metavar="ID", nargs="?")
    status.set_defaults(handler=status_command)


def customer_status(
    deployment: Deployment, customer: Customer | InvalidCustomer, open_failures: int, now: dt.datetime
) -> CustomerStatus:
    state = deployment.state()
    runs = {run.stage: run for run in state.list_runs(customer.customer_id)}
    stages = []
    for stage in Stage:
        run = runs.get(stage)
        last_success = run.last_success_at if run else None
        stages.append(
            StageStatus(
                stage=stage,
                state=run.state if run else None,
                updated_at=run.updated_at if run else None,
                finished_at=run.finished_at if run else None,
                last_success_at=last_success,
                lag_seconds=int((now - last_success).total_seconds()) if last_success else None,
                counts=run.counts if run else None,
                message=(run.message or None) if run else None,
            )
        )
    health = state.get_health(customer.customer_id)
    if isinstance(customer, Customer):
        display_name, enabled, problems = customer.display_name, customer.enabled, []
    else:
        display_name, enabled, problems = None, None, customer.problems
    return CustomerStatus(
        customer_id=customer.customer_id,
        display_name=display_name,
        enabled=enabled,
        problems=problems,
        health=health,
        paused=is_paused(health, now),
        stages=stages,
        open_failures=open_failures,
        reconciliation=state.get_review(customer.customer_id, ReviewTask.RECONCILE),
        preview=state.get_review(customer.customer_id, ReviewTask.PREVIEW),
    )


def collect_status(deployment: Deployment, only: str | None, now: dt.datetime) -> list[CustomerStatus]:
    directory = deployment.customers()
    customers: list[Customer | InvalidCustomer]
    if only is None:
        valid, invalid = directory.load()
        customers = sorted([*valid, *invalid], key=lambda c: c.customer_id)
        failures = Counter(f.customer_id for f in deployment.state().list_failures())
    else:
        customers = [known_customer(deployment, only)]
        failures = Counter({only: len(deployment.state().list_failures(only))})
    return [customer_status(deployment, c, failures[c.customer_id], now) for c in customers]


def describe_health(health: CustomerHealth | None, paused: bool) -> str:
    if health is None or health.status is HealthStatus.OK:
        return "health ok"
    if paused:
        return f"PAUSED {health.status} since {when(health.since)} until {when(health.retry_at)}: {health.reason}"
    return f"{health.status} since {when(health.since)} (pause over, retried on the next dispatch): {health.reason}"


def describe_review(title: str, review: ReviewRecord | None) -> str:
    if review is None or review.finished_at is None:
        queued = f", queued {when(review.queued_at)}" if review is not None and review.queued_at else ""
        return f"{title}: none yet{queued}"
    return f"{title} {when(review.finished_at)}: {review.message}"


def _counts(counts: RunCounts | None) -> list[str]:
    if counts is None:
        return ["-"] * len(RunCounts.model_fields)
    return [str(getattr(counts, name)) for name in RunCounts.model_fields]


def print_status(status: CustomerStatus) -> None:
    if status.problems:
        print(f"{status.customer_id}  INVALID (skipped by the dispatcher): {'; '.join(status.problems)}")
    else:
        print(f"{status.customer_id} ({status.display_name})  {'enabled' if status.enabled else 'DISABLED'}")
    print(f"  {describe_health(status.health, status.paused)}")
    print(f"  open failures: {status.open_failures}")
    print(f"  {describe_review('reconciliation', status.reconciliation)}")
    if status.preview is not None:
        print(f"  {describe_review('onboarding preview', status.preview)}")
    headers = ["stage", "state", "updated", "lag", *RunCounts.model_fields, "message"]
    rows = [
        [
            s.stage.value,
            s.state.value if s.state else "never run",
            when(s.updated_at),
            duration(dt.timedelta(seconds=s.lag_seconds)) if s.lag_seconds is not None else "never",
            *_counts(s.counts),
            s.message or "",
        ]
        for s in status.stages
    ]
    print("\n".join(f"  {line}" for line in table(headers, rows).splitlines()))


def status_command(args: argparse.Namespace) -> int:
    statuses = collect_status(deployment_from(args), args.customer_id, dt.datetime.now(dt.UTC))
    if args.json:
        print_json(statuses)
        return 0
    if not statuses:
        print("no customers")
    for index, status in enumerate(statuses):
        if index:
            print()
        print_status(status)
    return 0
