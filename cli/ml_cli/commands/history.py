"""mlc runs and mlc records: a customer's kept stage runs, and its records by state with their remote ids."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Literal

from pydantic import BaseModel

from ml_cli.arguments import RECORD_KINDS, customer_id, deployment_from, positive_int, record_kind, stage
from ml_cli.commands import Commands, SharedOptions
from ml_cli.commands.customer import known_customer
from ml_cli.output import duration, print_json, table, when
from ml_connector.failure_guide import suggested_fix
from ml_connector.kinds import Stage
from ml_connector.state.dynamodb import DynamoStateStore
from ml_connector.state.models import MappingState, RunCounts, StageRun

RecordState = Literal["synced", "failed", "waiting", "skipped"]
RECORD_STATES: tuple[RecordState, ...] = ("synced", "failed", "waiting", "skipped")


class RecordLine(BaseModel):
    kind: str
    source_key: str
    state: RecordState
    at: dt.datetime | None
    remote_id: str | None = None
    detail: str = ""


def register(commands: Commands, shared: SharedOptions) -> None:
    runs = commands.add_parser(
        "runs",
        parents=[shared.target, shared.as_json],
        help="a customer's recent stage runs",
        description="The stage runs kept for a customer (as long as the audit trail), newest first: state, when it "
        "started and finished, the cycle it belonged to, its counts and its first error.",
    )
    runs.add_argument("customer_id", type=customer_id, metavar="ID")
    runs.add_argument("--stage", type=stage, metavar="STAGE", help=", ".join(s.value for s in Stage))
    runs.add_argument("--limit", type=positive_int, default=20, metavar="N", help="at most N per stage (default 20)")
    runs.set_defaults(handler=runs_command)

    records = commands.add_parser(
        "records",
        parents=[shared.target, shared.as_json],
        help="a customer's records of one kind by state, with their remote ids",
        description="Records of KIND by state: synced (with the AvidXchange id), failed and waiting (open failures, "
        "with the fix to try), skipped (kept as long as the audit trail, with the reason).",
    )
    records.add_argument("customer_id", type=customer_id, metavar="ID")
    records.add_argument("kind", type=record_kind, metavar="KIND", help=", ".join(RECORD_KINDS))
    records.add_argument("--state", choices=RECORD_STATES, help="only records in this state (default: all)")
    records.add_argument(
        "--since", type=since_time, metavar="WHEN", help="only records from then on: an ISO time/date, or 30m, 6h, 2d"
    )
    records.add_argument("--limit", type=positive_int, default=200, metavar="N", help="show at most N (default 200)")
    records.set_defaults(handler=records_command)


def since_time(value: str, now: dt.datetime | None = None) -> dt.datetime:
    """``30m``, ``6h``, ``2d`` ago, or an ISO date/time (UTC unless it says otherwise)."""
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if value[:-1].isdigit() and value[-1:] in units:
        return (now or dt.datetime.now(dt.UTC)) - dt.timedelta(**{units[value[-1]]: int(value[:-1])})
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is neither an ISO date/time nor an age like 30m, 6h, 2d") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def runs_command(args: argparse.Namespace) -> int:
    deployment = deployment_from(args)
    known_customer(deployment, args.customer_id)
    state = deployment.state()
    stages = [args.stage] if args.stage else list(Stage)
    kept = [run for s in stages for run in state.recent_runs(args.customer_id, s, args.limit)]
    kept.sort(key=lambda run: run.finished_at or run.updated_at, reverse=True)
    if args.json:
        print_json(kept)
        return 0
    if not kept:
        print(f"no runs kept for {args.customer_id}" + (f" {args.stage}" if args.stage else ""))
        return 0
    print(table(["finished", "stage", "state", "took", "cycle", *RunCounts.model_fields, "message"], _run_rows(kept)))
    return 0


def _run_rows(runs: list[StageRun]) -> list[list[str]]:
    return [
        [
            when(run.finished_at),
            run.stage.value,
            run.state.value,
            duration(run.finished_at - run.started_at) if run.finished_at and run.started_at else "-",
            run.cycle_id,
            *(str(getattr(run.counts, name)) for name in RunCounts.model_fields),
            run.message or "",
        ]
        for run in runs
    ]


def collect_records(
    state: DynamoStateStore, customer: str, kind: str, only: RecordState | None, since: dt.datetime | None
) -> list[RecordLine]:
    wanted = set(RECORD_STATES) if only is None else {only}
    lines: list[RecordLine] = []
    if "synced" in wanted:
        lines += [
            RecordLine(kind=kind, source_key=m.source_key, state="synced", at=m.synced_at, remote_id=m.remote_id)
            for m in state.iter_mappings(customer, kind)
            if m.state is MappingState.SYNCED
        ]
    if wanted & {"failed", "waiting"}:
        for f in state.list_failures(customer):
            line_state: RecordState = "waiting" if f.waiting else "failed"
            if f.kind == kind and line_state in wanted:
                detail = f"{f.error} -> {suggested_fix(f)}"
                lines.append(
                    RecordLine(kind=kind, source_key=f.source_key, state=line_state, at=f.last_failed_at, detail=detail)
                )
    if "skipped" in wanted:
        lines += [
            RecordLine(kind=kind, source_key=s.source_key, state="skipped", at=s.at, detail=s.reason)
            for s in state.list_skipped(customer, kind)
        ]
    if since is not None:
        lines = [line for line in lines if line.at is not None and line.at >= since]
    return sorted(lines, key=lambda line: (line.state, line.source_key))


def records_command(args: argparse.Namespace) -> int:
    deployment = deployment_from(args)
    known_customer(deployment, args.customer_id)
    found = collect_records(deployment.state(), args.customer_id, args.kind, args.state, args.since)
    shown = found[: args.limit]
    if args.json:
        print_json(shown)
        return 0
    if not shown:
        print(f"no {args.kind} records" + (f" {args.state}" if args.state else "") + f" for {args.customer_id}")
        return 0
    rows = [[r.state, r.source_key, r.remote_id or "-", when(r.at), r.detail] for r in shown]
    print(table(["state", "key", "remote id", "at", "detail"], rows))
    if len(found) > len(shown):
        print(f"({len(found) - len(shown)} more; raise --limit or narrow with --state/--since)")
    return 0
