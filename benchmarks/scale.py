"""The invoices stage's time and memory as the company grows, and its memory with large images.

    .venv/bin/python -m benchmarks.scale                                  # 1,000 and 5,000 invoices: about 3 minutes
    .venv/bin/python -m benchmarks.scale --sizes 20000,100000 --image-sizes-mib ''   # the long run: about 45 minutes
    .venv/bin/python -m benchmarks.scale --sizes 1000 --agent-latency-ms 20 --avid-latency-ms 60 --rate-limit 25

Each size is a fresh local stack and a generated company (one vendor per five invoices, 85% of invoices with an
image); vendors and GL are synced first, then the invoices stage is measured: wall time, time per invoice, calls,
DynamoDB writes, and the peak resident memory (VmHWM) of the invoices function's worker processes, which run
nothing else. Then a small company whose first few invoices carry one large image each (10 MiB, 25 MiB: AvidXchange's
limit), against the same company with the generator's small images.

The network adds nothing by default (no latency, no rate limit, and the customer's client lets up to 1,000 calls/s
out instead of its default pacing), so the figures are the connector's own cost on this machine and moto's; the
condition flags add latency and a rate limit (the customer's pacing then stays as configured).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import (
    IMAGE_SHARE,
    Bench,
    Conditions,
    Tally,
    add_condition_arguments,
    bench_system,
    conditions_from,
    mib,
    say,
    work_directory,
)
from benchmarks.tables import per, table
from ml_connector.connections import AvidConnection
from ml_connector.kinds import Stage
from sage_agent.simulated.generator import CompanyShape

INVOICES_PER_VENDOR = 5
PDF_HEADER = b"%PDF-1.4\n"
UNPACED = {"requests_per_second": 1000}
"""The customer's AvidXchange connection at the most its client allows."""


@dataclass(frozen=True)
class InvoicesRun:
    invoices: int
    tally: Tally
    read: int
    peak_rss: int
    largest_image: int


def measure_invoices(
    work_dir: Path, shape: CompanyShape, conditions: Conditions, big_image_mib: int = 0, images: int = 0
) -> InvoicesRun:
    with bench_system(work_dir, shape, conditions) as bench:
        attach_large_images(bench, images, big_image_mib * 1024 * 1024)
        for stage in (Stage.VENDORS, Stage.GL):
            bench.run(stage, cycle_id="reference")
        tally, run = bench.run(Stage.INVOICES, cycle_id="invoices")
        state = bench.system.avid.state
        with state.lock:
            largest = max((i.image_size or 0 for i in state.invoices.values()), default=0)
        return InvoicesRun(
            shape.invoices, tally, run.counts.read, bench.worker_peak_rss().get("InvoicesFunction", 0), largest
        )


def attach_large_images(bench: Bench, count: int, size: int) -> None:
    """One image of ``size`` bytes (a PDF header, then incompressible bytes) on each of the first ``count`` open
    invoices of a positive amount."""
    if not count or not size:
        return
    backend = bench.system.agent.backend
    chosen = 0
    for division, vendor_no, invoice_no in backend.open_invoice_keys(limit=count * 10):
        invoice = backend.read_open_invoice(division, vendor_no, invoice_no)
        if invoice is None or invoice.InvoiceAmt <= 0:
            continue
        data = PDF_HEADER + os.urandom(size - len(PDF_HEADER))
        backend.attach_image(division, vendor_no, invoice_no, data, "application/pdf")
        chosen += 1
        if chosen == count:
            return


def print_sizes(runs: list[InvoicesRun]) -> None:
    header = ["invoices", "wall s", "ms/invoice", "invocations", "Avid calls", "429s", "agent calls", "DDB writes/inv"]
    header += ["CPU s: moto", "functions", "this process", "peak RSS"]
    rows = [
        [
            r.invoices,
            r.tally.seconds,
            f"{r.tally.seconds * 1000 / r.read:.1f}" if r.read else "-",
            len(r.tally.invocations),
            r.tally.avid_calls,
            r.tally.avid_rate_limited,
            r.tally.agent_total,
            per(r.tally.aws.dynamodb_writes(), r.read),
            *r.tally.cpu_split(),
            mib(r.peak_rss),
        ]
        for r in runs
    ]
    print(table(header, rows))


def print_images(images: list[tuple[int, InvoicesRun]], count: int) -> None:
    rows = [
        [
            f"{count} x {image_mib} MiB" if image_mib else "generator's (small)",
            f"{run.largest_image / 1_048_576:.2f} MiB",
            run.tally.seconds,
            mib(run.peak_rss),
        ]
        for image_mib, run in images
    ]
    print(table(["images", "largest uploaded", "wall s", "peak RSS"], rows))


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scale",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--sizes", type=_sizes, default=[1000, 5000], help="invoices per company, comma-separated")
    parser.add_argument("--image-sizes-mib", type=_sizes, default=[10, 25], help="large images to measure ('': none)")
    parser.add_argument("--large-images", type=int, default=3, help="invoices that carry a large image")
    parser.add_argument("--image-company", type=int, default=100, help="invoices of the large-image company")
    parser.add_argument("--work-dir", type=Path, default=None, help="keep logs here (default: a temporary directory)")
    add_condition_arguments(parser, agent_latency_ms=0, avid_latency_ms=0, rate_limit=0)
    return parser.parse_args(argv)


def unpaced(conditions: Conditions) -> Conditions:
    """Without AvidXchange's rate limit, the customer's client need not pace itself either (its own requests/s)."""
    if conditions.rate_limit is not None:
        return conditions
    lifted = {name: value for name, value in UNPACED.items() if name in AvidConnection.model_fields}
    return dataclasses.replace(conditions, avid_options={**lifted, **conditions.avid_options})


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    conditions = unpaced(conditions_from(args))
    runs = []
    with work_directory(args.work_dir, "bench-scale-") as work_dir:
        for size in args.sizes:
            say(f"{size} invoices ...")
            shape = CompanyShape(max(1, size // INVOICES_PER_VENDOR), size, IMAGE_SHARE)
            runs.append(measure_invoices(work_dir / f"size-{size}", shape, conditions))
        images = []
        for image_mib in [0, *args.image_sizes_mib] if args.image_sizes_mib else []:
            say(f"{args.large_images} images of {image_mib} MiB ..." if image_mib else "small images ...")
            shape = CompanyShape(max(1, args.image_company // INVOICES_PER_VENDOR), args.image_company, IMAGE_SHARE)
            run = measure_invoices(work_dir / f"image-{image_mib}", shape, conditions, image_mib, args.large_images)
            images.append((image_mib, run))
    print(f"Invoices stage by company size; {conditions.describe()}; {os.cpu_count()} cores")
    print_sizes(runs)
    if images:
        print(f"\nPeak memory of the invoices function with large images ({args.image_company} invoices):")
        print_images(images, args.large_images)
    return 0


if __name__ == "__main__":
    sys.exit(main())
