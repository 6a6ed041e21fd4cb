"""mlc ping: check a customer's agent and AvidConnect with its real credentials, from this machine."""

from __future__ import annotations

import argparse

from ml_cli.arguments import customer_id, deployment_from
from ml_cli.commands import Commands, SharedOptions
from ml_cli.commands.customer import existing_customer
from ml_cli.customer_access import connector_logs_quiet, systems_opener
from ml_cli.output import print_json, table
from ml_connector.ping import PingReport, ping_customer


def register(commands: Commands, shared: SharedOptions) -> None:
    ping = commands.add_parser(
        "ping",
        parents=[shared.target, shared.as_json],
        help="check a customer's agent and AvidConnect with its real credentials",
        description="Run the ping checks in this process: the agent (health, company, bank code) and AvidConnect "
        "(company), with the customer's credentials from Secrets Manager, retrying passing failures as the "
        "functions do (an unreachable system takes several seconds to give up on). Exit 1 if either check fails.",
    )
    ping.add_argument("customer_id", type=customer_id, metavar="ID")
    ping.set_defaults(handler=ping_command)


def print_report(report: PingReport) -> None:
    print(f"ping {report.customer_id}: {'ok' if report.ok else 'FAILED'}")
    rows = [
        [name, "ok" if check.ok else "FAILED", check.detail]
        for name, check in (("agent", report.agent), ("avid", report.avid))
    ]
    print(table(["system", "result", "detail"], rows))
    if report.agent_clock_offset_seconds is not None:
        print(f"agent clock minus UTC: {report.agent_clock_offset_seconds:+.0f}s (Sage server time zone and skew)")


def ping_command(args: argparse.Namespace) -> int:
    deployment = deployment_from(args)
    customer = existing_customer(deployment, args.customer_id)
    with connector_logs_quiet():
        report = ping_customer(customer, systems_opener(deployment))
    if args.json:
        print_json(report)
    else:
        print_report(report)
    return 0 if report.ok else 1
