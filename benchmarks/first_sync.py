"""A first sync of a generated company through the local stack, a payment run over it, then a cycle with no change.

    .venv/bin/python -m benchmarks.first_sync --vendors 200 --invoices 1000  # about 2 minutes
    .venv/bin/python -m benchmarks.first_sync          # the defaults, 10,000 vendors and 50,000 invoices: about 2 hours

The customer's agent serves a company from the agent's generator (85% of invoices with a scanned image); AvidConnect
(the simulator) answers after its latency and refuses calls beyond its rate limit with 429. The stages run one after
the other, as a cycle does: vendors, GL, invoices; then AvidXchange users approve and pay every pushed invoice (one
payment per vendor, settled) and the payments stage posts them to Sage 100 as manual checks.

Printed: each stage's wall time against its ceiling, the least time the two APIs allow, the longest of: the
AvidConnect calls needed (vendors and codes in full batches, one create per invoice and one upload per image; for
payments, the reads made) divided by the rate limit; AvidConnect's latency times those calls divided by the calls the
customer's connection keeps in flight (max_in_flight); the agent's latency times the agent calls made divided by the
agent connection's max_connections. Then HTTP calls per record on each side; DynamoDB requests and items per record,
by operation; CPU seconds by process (where the wall time went); the other AWS requests; the function invocations
and the workers' peak memory. Then one more cycle with nothing changed in either system (the agent's clock 15
minutes on): what it calls (only polls, when nothing is wasted).

A stage's first invocation starts its worker process (a Lambda cold start, about 1-2 s here): it dominates the small
stages' wall time, not their calls.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from avid_sim.state import AvidState
from benchmarks.aws_requests import DYNAMODB_READS, DYNAMODB_WRITES
from benchmarks.harness import (
    IMAGE_SHARE,
    Bench,
    Tally,
    add_condition_arguments,
    bench_system,
    conditions_from,
    mib,
    pay_pushed_invoices,
    say,
    work_directory,
)
from benchmarks.tables import per, table
from ml_connector.adapters.avid_client import ENTERPRISE_CODE_BATCH_SIZE, VENDOR_BATCH_SIZE
from ml_connector.kinds import CYCLE, Stage
from ml_connector.state.models import StageRun
from sage_agent.simulated.generator import CompanyShape

NO_CHANGE_GAP = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class AvidHolds:
    """What AvidXchange holds, to tell what a stage created there."""

    vendors: int
    codes: int
    invoices: int
    images: int

    @classmethod
    def of(cls, state: AvidState) -> AvidHolds:
        with state.lock:
            invoices = list(state.invoices.values())
            return cls(
                len(state.vendors), len(state.enterprise_codes), len(invoices), sum(i.has_image for i in invoices)
            )


@dataclass(frozen=True)
class StageFigures:
    stage: Stage
    run: StageRun
    tally: Tally
    needed: int
    """AvidConnect calls the stage could not do without."""

    @property
    def records(self) -> int:
        return self.run.counts.read


def calls_needed(stage: Stage, before: AvidHolds, after: AvidHolds, tally: Tally) -> int:
    if stage is Stage.VENDORS:
        return math.ceil((after.vendors - before.vendors) / VENDOR_BATCH_SIZE)
    if stage is Stage.GL:
        return math.ceil((after.codes - before.codes) / ENTERPRISE_CODE_BATCH_SIZE)
    if stage is Stage.INVOICES:
        return (after.invoices - before.invoices) + (after.images - before.images)
    return tally.avid_calls - tally.avid_rate_limited  # payments only read: the reads it made


def sync_stage(bench: Bench, stage: Stage, cycle_id: str) -> StageFigures:
    say(f"{stage} ...")
    before = AvidHolds.of(bench.system.avid.state)
    tally, run = bench.run(stage, cycle_id=cycle_id)
    needed = calls_needed(stage, before, AvidHolds.of(bench.system.avid.state), tally)
    return StageFigures(stage, run, tally, needed)


@dataclass(frozen=True)
class Ceiling:
    """The least time a stage can take, by each bound (seconds)."""

    avid_rate: float
    """AvidConnect calls needed / the rate limit."""
    avid_latency: float
    """AvidConnect latency x calls needed / the calls the customer's connection keeps in flight."""
    agent_latency: float
    """Agent latency x agent calls made / the connections the customer's agent connection opens."""

    @classmethod
    def of(cls, bench: Bench, figures: StageFigures) -> Ceiling:
        conditions = bench.conditions
        agent_connections = bench.system.customer.agent.max_connections
        return cls(
            figures.needed / conditions.rate_limit if conditions.rate_limit else 0.0,
            conditions.avid_latency * figures.needed / bench.max_in_flight,
            conditions.agent_latency * figures.tally.agent_total / agent_connections,
        )

    @property
    def seconds(self) -> float:
        return max(self.avid_rate, self.avid_latency, self.agent_latency)


def print_first_sync(bench: Bench, figures: list[StageFigures]) -> None:
    rows = []
    for f in figures:
        limit = Ceiling.of(bench, f)
        rows.append(
            [
                f.stage,
                f.records,
                f.tally.seconds,
                f.tally.avid_calls,
                f.needed,
                f.tally.avid_rate_limited,
                f"{limit.avid_rate:.1f}",
                f"{limit.avid_latency:.1f}",
                f"{limit.agent_latency:.1f}",
                f"{f.tally.seconds / limit.seconds:.2f}" if limit.seconds else "-",
            ]
        )
    header = ["stage", "records", "wall s", "Avid calls", "needed", "429s", "Avid rate s", "Avid latency s"]
    print(table([*header, "agent latency s", "wall/ceiling"], rows))
    conditions = bench.conditions
    rate = f"{conditions.rate_limit:g} req/s" if conditions.rate_limit else "no rate limit"
    print(
        f"ceiling: the longest of needed / {rate}; {conditions.avid_latency * 1000:g} ms x needed / "
        f"{bench.max_in_flight} (max_in_flight); {conditions.agent_latency * 1000:g} ms x agent calls / "
        f"{bench.system.customer.agent.max_connections} (the agent connection's max_connections)\n"
    )
    print("Per record (records = read from the source):")
    print(
        table(
            ["stage", "agent calls", "Avid calls", "DDB reads", "DDB writes", "items written", "RRU", "WRU"],
            [
                [
                    f.stage,
                    per(f.tally.agent_total, f.records),
                    per(f.tally.avid_calls, f.records),
                    per(f.tally.aws.dynamodb_reads(), f.records),
                    per(f.tally.aws.dynamodb_writes(), f.records),
                    per(sum(f.tally.aws.items_written.values()), f.records),
                    per(f.tally.aws.read_units, f.records),
                    per(f.tally.aws.write_units, f.records),
                ]
                for f in figures
            ],
        )
    )
    print("\nDynamoDB requests by operation (all of the stage's functions, retries included):")
    operations = [*DYNAMODB_READS, *DYNAMODB_WRITES]
    print(
        table(
            ["stage", *operations, "items written"],
            [
                [
                    f.stage,
                    *(f.tally.aws.count("dynamodb", op) for op in operations),
                    sum(f.tally.aws.items_written.values()),
                ]
                for f in figures
            ],
        )
    )
    print(f"\nWhere the time went: CPU seconds by process ({os.cpu_count()} cores)")
    print(
        table(
            ["stage", "wall s", "moto", "functions", "agent, simulator, driver"],
            [[f.stage, f.tally.seconds, *f.tally.cpu_split()] for f in figures],
        )
    )
    print("\nOther requests and invocations:")
    print_other_requests([(str(f.stage), f.tally) for f in figures])
    peaks = bench.worker_peak_rss()
    print("\nWorker peak memory (VmHWM): " + ", ".join(f"{name} {mib(size)}" for name, size in sorted(peaks.items())))


def print_other_requests(rows: list[tuple[str, Tally]]) -> None:
    print(
        table(
            ["step", "invocations", "SQS", "Secrets Manager", "KMS", "agent calls by endpoint"],
            [
                [
                    label,
                    tally.describe_invocations(),
                    tally.aws.count("sqs"),
                    tally.aws.count("secretsmanager"),
                    tally.aws.count("kms"),
                    " ".join(f"{name}={n}" for name, n in sorted(tally.agent_calls.items())),
                ]
                for label, tally in rows
            ],
        )
    )


def print_no_change(figures: list[StageFigures]) -> None:
    print(
        table(
            ["stage", "wall s", "read", "synced", "agent calls", "Avid calls", "DDB reads", "DDB writes"],
            [
                [
                    f.stage,
                    f.tally.seconds,
                    f.run.counts.read,
                    f.run.counts.synced,
                    f.tally.agent_total,
                    f.tally.avid_calls,
                    f.tally.aws.dynamodb_reads(),
                    f.tally.aws.dynamodb_writes(),
                ]
                for f in figures
            ],
        )
    )
    print_other_requests([(str(f.stage), f.tally) for f in figures])


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.first_sync",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--vendors", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=50_000, help="open invoices")
    parser.add_argument(
        "--start-date",
        type=dt.date.fromisoformat,
        default=dt.date(2020, 1, 1),
        help="the customer's invoice_start_date",
    )
    parser.add_argument(
        "--work-dir", type=Path, default=None, help="keep logs and state here (default: a temporary directory)"
    )
    add_condition_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    conditions = conditions_from(args)
    shape = CompanyShape(vendors=args.vendors, invoices=args.invoices, image_share=IMAGE_SHARE)
    say(f"generating {args.vendors} vendors and {args.invoices} invoices, starting the local stack ...")
    started = time.perf_counter()
    with (
        work_directory(args.work_dir, "bench-first-sync-") as work_dir,
        bench_system(work_dir, shape, conditions, invoice_start_date=args.start_date.isoformat()) as bench,
    ):
        setup = time.perf_counter() - started
        figures = [sync_stage(bench, stage, "first-sync") for stage in (Stage.VENDORS, Stage.GL, Stage.INVOICES)]
        say("approving and paying the pushed invoices in AvidXchange ...")
        payments, paid = pay_pushed_invoices(bench)
        figures.append(sync_stage(bench, Stage.PAYMENTS, "payment-run"))
        print(f"First sync of {args.vendors} vendors and {args.invoices} invoices ({IMAGE_SHARE:.0%} with an image)")
        print(f"{conditions.describe()}; set-up {setup:.0f} s (company generated, stack deployed)")
        print(f"payment run: {payments} payments in AvidXchange settling {paid} invoices\n")
        print_first_sync(bench, figures)
        bench.system.agent.clock.advance(NO_CHANGE_GAP)
        quiet = [sync_stage(bench, stage, "no-change") for stage in CYCLE]
        print(f"\nA cycle with no change (agent clock {NO_CHANGE_GAP.total_seconds() / 60:g} minutes later):")
        print_no_change(quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
