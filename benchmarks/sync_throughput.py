"""A first sync of the demo company through the whole local system, with figures per stage.

    .venv/bin/python benchmarks/sync_throughput.py [--work-dir DIR]

Everything is real but AWS (moto server mode on loopback): the stage functions in their own processes, the agent and
the AvidXchange simulator over HTTPS. Times are wall clock on this machine, so compare runs on the same machine only.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from pathlib import Path

from ml_connector.kinds import CYCLE
from ml_local.demo import DEMO_CUSTOMER, configure_demo_customer, demo_systems
from ml_local.session import local_stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args()
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="ml-bench-"))
    started = time.monotonic()
    with local_stack(work_dir) as stack, demo_systems(work_dir) as systems:
        setup = time.monotonic() - started
        with contextlib.redirect_stdout(io.StringIO()):
            configure_demo_customer(stack, systems, work_dir)
        cycle_started = time.monotonic()
        stack.driver.fire_schedules()
        delivery = stack.driver.drain()
        cycle = time.monotonic() - cycle_started
        state = stack.state_store()
        print(f"setup (moto + template + agent + simulator): {setup:.1f}s; one full cycle: {cycle:.1f}s")
        print(f"SQS messages delivered: {delivery.delivered} ({delivery.failed} failed deliveries)")
        print(f"{'stage':<9} {'records':>8} {'synced':>7} {'failed':>7} {'seconds':>8} {'records/s':>10}")
        for stage in CYCLE:
            run = state.get_run(DEMO_CUSTOMER, stage)
            if run is None or run.started_at is None or run.finished_at is None:
                print(f"{stage:<9} did not run")
                continue
            seconds = (run.finished_at - run.started_at).total_seconds()
            records = run.counts.read + run.counts.unchanged
            rate = records / seconds if seconds else float("inf")
            print(
                f"{stage:<9} {records:>8} {run.counts.synced:>7} {run.counts.failed:>7} {seconds:>8.1f} {rate:>10.1f}"
            )
        invoices = systems.avid.state.invoices.values()
        images = sum(1 for i in invoices if i.has_image)
        megabytes = sum(i.image_size or 0 for i in invoices) / 1e6
        print(f"images uploaded: {images} ({megabytes:.1f} MB)")


if __name__ == "__main__":
    main()
