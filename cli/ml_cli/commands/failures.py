"""mlc failures: the open failures (records in the retry queue or the DLQ that have not succeeded since)."""

from __future__ import annotations

import argparse

from ml_cli.arguments import customer_id, deployment_from, positive_int
from ml_cli.commands import Commands, SharedOptions
from ml_cli.commands.customer import known_customer
from ml_cli.output import print_json, table, when


def register(commands: Commands, shared: SharedOptions) -> None:
    failures = commands.add_parser(
        "failures",
        parents=[shared.target, shared.as_json],
        help="open failures, most recent first",
        description="Open failures (of every customer, or of ID), most recently failed first: the record, the "
        "error, how many attempts, when it first and last failed. `mlc audit` shows one record's trail.",
    )
    failures.add_argument("customer_id", type=customer_id, metavar="ID", nargs="?")
    failures.add_argument("--limit", type=positive_int, default=50, metavar="N", help="show at most N (default 50)")
    failures.set_defaults(handler=failures_command)


def failures_command(args: argparse.Namespace) -> int:
    deployment = deployment_from(args)
    if args.customer_id is not None:
        known_customer(deployment, args.customer_id)
    found = deployment.state().list_failures(args.customer_id)
    found.sort(key=lambda f: f.last_failed_at, reverse=True)
    shown = found[: args.limit]
    if args.json:
        print_json(shown)
        return 0
    if not shown:
        print("no open failures")
        return 0
    rows = [
        [
            f.customer_id,
            f.stage.value,
            f.kind,
            f.source_key,
            str(f.attempts),
            "yes" if f.retryable else "no",
            when(f.first_failed_at),
            when(f.last_failed_at),
            f.error,
        ]
        for f in shown
    ]
    print(
        table(
            ["customer", "stage", "kind", "key", "attempts", "retryable", "first failed", "last failed", "error"], rows
        )
    )
    if len(found) > len(shown):
        print(f"({len(found) - len(shown)} more; raise --limit)")
    return 0
