"""mlc report: a customer's status page as one self-contained HTML file."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from pydantic import ValidationError

from ml_cli.arguments import customer_id, deployment_from, positive_int, writable_file
from ml_cli.commands import Commands, SharedOptions
from ml_cli.commands.customer import known_customer
from ml_cli.customer_access import customer_systems
from ml_cli.deployment import Deployment
from ml_cli.errors import BadInput, OperationFailed
from ml_connector.customers import Customer, InvalidCustomer
from ml_connector.failure_guide import group_failures
from ml_connector.html_report import render_status_page
from ml_connector.reconcile_report import ReconciliationReport, ReconciliationSummary
from ml_connector.state.history import ReviewRecord, ReviewTask
from ml_connector.status_page import (
    Latency,
    StatusPage,
    measure_latency,
    run_points,
    unmeasured,
)


def register(commands: Commands, shared: SharedOptions) -> None:
    report = commands.add_parser(
        "report",
        parents=[shared.target],
        help="a customer's status page as a self-contained HTML file",
        description="Write a customer's status page (one HTML file with inline charts, nothing fetched): each "
        "stage's recent runs and the records they moved, open failures by reason, a reconciliation summary, and "
        "the latency of the agent and of AvidConnect (one round trip each, with the customer's credentials).",
    )
    report.add_argument("customer_id", type=customer_id, metavar="ID")
    report.add_argument("--html", type=writable_file, required=True, metavar="FILE", help="the page to write")
    report.add_argument(
        "--reconciliation",
        type=Path,
        metavar="FILE.json",
        help="the output of `mlc reconcile ID --json` to summarise on the page (default: the latest scheduled "
        "reconciliation's summary)",
    )
    report.add_argument("--runs", type=positive_int, default=20, metavar="N", help="runs per stage (default 20)")
    report.add_argument(
        "--no-ping", action="store_true", help="do not call the two systems (the latency panel stays empty)"
    )
    report.set_defaults(handler=report_command)


def load_reconciliation(path: Path, customer_id: str) -> ReconciliationSummary:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BadInput(f"--reconciliation {path}: cannot read it ({error.strerror})") from None
    try:
        summary = ReconciliationReport.model_validate_json(text).summary()
    except ValidationError:
        try:
            summary = ReconciliationSummary.model_validate_json(text)
        except ValidationError:
            raise BadInput(f"--reconciliation {path}: not the output of `mlc reconcile ID --json`") from None
    if summary.customer_id != customer_id:
        raise BadInput(f"--reconciliation {path} is customer {summary.customer_id}'s, not {customer_id}'s")
    return summary


def latest_reconciliation(review: ReviewRecord | None) -> ReconciliationSummary | None:
    """The scheduled reconciliation's summary, kept in the state table."""
    if review is None or not review.summary:
        return None
    try:
        return ReconciliationSummary.model_validate(review.summary)
    except ValidationError:
        return None


def latency_of(deployment: Deployment, customer: Customer | InvalidCustomer, ping: bool) -> list[Latency]:
    if not ping:
        return unmeasured("not measured: --no-ping")
    if isinstance(customer, InvalidCustomer):
        return unmeasured("not measured: the customer item is invalid")
    try:
        with customer_systems(deployment, customer) as (agent, avid):
            return measure_latency(agent, avid)
    except OperationFailed as error:
        return unmeasured(f"not measured: {error}")


def report_command(args: argparse.Namespace) -> int:
    reconciliation = (
        load_reconciliation(args.reconciliation, args.customer_id) if args.reconciliation is not None else None
    )
    deployment = deployment_from(args)
    customer = known_customer(deployment, args.customer_id)
    state = deployment.state()
    if reconciliation is None:
        reconciliation = latest_reconciliation(state.get_review(customer.customer_id, ReviewTask.RECONCILE))
    page = StatusPage(
        customer_id=customer.customer_id,
        display_name=customer.display_name if isinstance(customer, Customer) else None,
        generated_at=dt.datetime.now(dt.UTC),
        runs=run_points(state, customer.customer_id, args.runs),
        failures=group_failures(state.list_failures(customer.customer_id)),
        reconciliation=reconciliation,
        latency=latency_of(deployment, customer, not args.no_ping),
    )
    args.html.write_text(render_status_page(page), encoding="utf-8")
    print(f"wrote {args.html}")
    return 0
