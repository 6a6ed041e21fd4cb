"""mlc reconcile: compare a customer's Sage 100 company, its AvidXchange company and the connector's mappings."""

from __future__ import annotations

import argparse
from contextlib import closing

from ml_cli.arguments import customer_id, deployment_from, positive_int, writable_file
from ml_cli.commands import Commands, SharedOptions
from ml_cli.commands.customer import existing_customer
from ml_cli.customer_access import customer_systems
from ml_cli.output import print_json, table
from ml_cli.progress import TerminalProgress
from ml_connector.html_report import render_reconciliation_page
from ml_connector.reconcile import reconcile_customer
from ml_connector.reconcile_report import ReconciliationReport


def register(commands: Commands, shared: SharedOptions) -> None:
    reconcile = commands.add_parser(
        "reconcile",
        parents=[shared.target, shared.as_json],
        help="where Sage 100, AvidXchange and the connector's mappings disagree",
        description="Read both systems (Sage open AP invoices, vendors and GL through the agent; AvidXchange vendors, "
        "codes, invoices and payments) and the connector's mappings, and report each disagreement with what to do, "
        "with counts and money totals. Reads only, page by page, in bounded memory. Exit 0 when the ledgers agree, "
        "1 when drift was found or a system could not be read.",
    )
    reconcile.add_argument("customer_id", type=customer_id, metavar="ID")
    reconcile.add_argument("--html", type=writable_file, metavar="FILE", help="also write the report as an HTML page")
    reconcile.add_argument(
        "--max-lines",
        type=positive_int,
        default=50,
        metavar="N",
        help="list at most N lines of each kind of drift (the totals count them all; default 50)",
    )
    reconcile.set_defaults(handler=reconcile_command)


def reconcile_command(args: argparse.Namespace) -> int:
    deployment = deployment_from(args)
    customer = existing_customer(deployment, args.customer_id)
    with customer_systems(deployment, customer) as (agent, avid), closing(TerminalProgress()) as progress:
        report = reconcile_customer(
            customer, agent, avid, deployment.state(), progress=progress, max_lines_per_kind=args.max_lines
        )
    if args.html:
        args.html.write_text(render_reconciliation_page(report), encoding="utf-8")
    if args.json:
        print_json(report)
    else:
        print_report(report)
    return 0 if report.in_agreement else 1


def print_report(report: ReconciliationReport) -> None:
    summary = report.summary()
    verdict = (
        "in agreement"
        if summary.in_agreement
        else f"{summary.drift_count} disagreement(s), {summary.drift_amount} at stake"
    )
    print(f"reconcile {report.customer_id}: {verdict} (invoices dated from {report.invoice_start_date})")
    sage, avid, connector = report.sage, report.avid, report.connector
    print(
        table(
            ["", "Sage 100", "AvidXchange", "connector"],
            [
                ["vendors", str(sage.vendors), str(avid.vendors), f"{connector.vendor_mappings} mapped"],
                ["GL codes", str(sage.codes), str(avid.codes), ""],
                [
                    "invoices",
                    f"{sage.open_invoices} open, {sage.invoice_amount} (balance {sage.open_balance})",
                    f"{avid.invoices}, {avid.invoice_amount}",
                    f"{connector.invoice_mappings} mapped",
                ],
                [
                    "payments",
                    f"{connector.checks_verified} manual check(s) read back",
                    f"{avid.settled_payments} settled, {avid.settled_amount}",
                    f"{connector.payment_mappings} posted",
                ],
            ],
        )
    )
    found = [t for t in report.totals if t.count]
    if not found:
        return
    print()
    print(
        table(
            ["drift", "count", "amount", "what"], [[t.kind, str(t.count), str(t.amount), t.kind.label] for t in found]
        )
    )
    for line in report.lines:
        amount = f" ({line.amount})" if line.amount is not None else ""
        print(f"\n{line.subject}  [{line.kind}]{amount}\n  found: {line.detail}\n  do:    {line.action}")
    omitted = sum(t.lines_omitted for t in report.totals)
    if omitted:
        print(f"({omitted} more line(s) not listed; raise --max-lines or use --json)")
