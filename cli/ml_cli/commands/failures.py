"""mlc failures: the open failures (records in the retry queue or the DLQ that have not succeeded since)."""

from __future__ import annotations

import argparse

from ml_cli.arguments import customer_id, deployment_from, positive_int
from ml_cli.commands import Commands, SharedOptions
from ml_cli.commands.customer import known_customer
from ml_cli.output import print_json, table, when
from ml_connector.failure_guide import FailureGroup, group_failures


def register(commands: Commands, shared: SharedOptions) -> None:
    failures = commands.add_parser(
        "failures",
        parents=[shared.target, shared.as_json],
        help="open failures by reason (with what to do), then each one, most recent first",
        description="Open failures (of every customer, or of ID): first grouped by reason with a count and the fix "
        "to try, then one by one, most recently failed first: the record, the error, how many attempts, when it "
        "first and last failed. `mlc audit` shows one record's trail.",
    )
    failures.add_argument("customer_id", type=customer_id, metavar="ID", nargs="?")
    failures.add_argument("--limit", type=positive_int, default=50, metavar="N", help="show at most N (default 50)")
    failures.add_argument(
        "--by-reason", action="store_true", help="only the groups: reason, count, what to do (JSON too)"
    )
    failures.set_defaults(handler=failures_command)


def failures_command(args: argparse.Namespace) -> int:
    deployment = deployment_from(args)
    if args.customer_id is not None:
        known_customer(deployment, args.customer_id)
    found = deployment.state().list_failures(args.customer_id)
    found.sort(key=lambda f: f.last_failed_at, reverse=True)
    shown = found[: args.limit]
    groups = group_failures(found)
    if args.json:
        print_json(groups if args.by_reason else shown)
        return 0
    if not shown:
        print("no open failures")
        return 0
    print_groups(groups)
    if args.by_reason:
        return 0
    print()
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


def print_groups(groups: list[FailureGroup]) -> None:
    rows = [[str(g.count), g.stage.value, g.kind, g.reason, g.fix] for g in groups]
    print(table(["count", "stage", "kind", "reason", "what to do"], rows))
