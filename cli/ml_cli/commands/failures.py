"""mlc failures: the open failures (records in the retry queue or the DLQ that have not succeeded since)."""

from __future__ import annotations

import argparse

from ml_cli.arguments import customer_id, deployment_from
from ml_cli.commands import Commands, SharedOptions
from ml_cli.output import print_json, table, when


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"--limit takes a whole number of at least 1, not {value!r}")
    return int(value)


def register(commands: Commands, shared: SharedOptions) -> None:
    failures = commands.add_parser(
        "failures",
        parents=[shared.target, shared.as_json],
        help="open failures, most recent first",
        description="Open failures (of every customer, or of ID), most recently failed first: the record, the "
        "error, how many attempts, when it first and last failed. `mlc audit` shows one record's trail.",
    )
    failures.add_argument("customer_id", type=customer_id, metavar="ID", nargs="?")
    failures.add_argument("--limit", type=_positive, default=50, metavar="N", help="show at most N (default 50)")
    failures.set_defaults(handler=failures_command)


def failures_command(args: argparse.Namespace) -> int:
    found = deployment_from(args).state().list_failures(args.customer_id)
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
