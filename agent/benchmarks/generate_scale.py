"""Generate a benchmark-size simulated company and print figures.

    .venv/bin/python agent/benchmarks/generate_scale.py --vendors 100000 --invoices 1000000 --db /tmp/big.sqlite

Prints the generation rate and database size, then times keyset paging through the change feeds
(the first pages, a page deep into the pass, and an ``updated_since`` query) on the generated company.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

from sage_agent.backend import ChangeWindow, InvoiceFilter
from sage_agent.paging import RecordT, read_page
from sage_agent.sage_time import SageStamp, SystemClock
from sage_agent.simulated import SimulatedBackend
from sage_agent.simulated.generator import CompanyShape, generate_company


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vendors", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--image-share", type=float, default=0.01)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--pages", type=int, default=20, help="pages of 1000 to read per feed when timing")
    parser.add_argument("--reuse", action="store_true", help="time an already generated --db, do not generate")
    args = parser.parse_args()

    now = dt.datetime.now()
    if not args.reuse:
        shape = CompanyShape(args.vendors, args.invoices, args.image_share)
        report = generate_company(args.db, shape, now, progress=lambda message: print(f"  {message}", flush=True))
        print(f"generated: {report.describe()}")

    backend = SimulatedBackend(args.db, clock=SystemClock())
    open_invoices = InvoiceFilter()
    time_feed("vendors", (str, str), backend.browse_vendors, args.pages)
    time_feed("invoices", (str, str, str), lambda w: backend.browse_open_invoices(w, open_invoices), args.pages)
    since = SageStamp.at(now - dt.timedelta(days=2))
    started = time.perf_counter()
    recent = backend.browse_open_invoices(ChangeWindow(limit=1000, since=since), open_invoices)
    print(
        f"invoices updated_since 2 days ago: {len(recent)} rows (first page) in {time.perf_counter() - started:.3f} s"
    )


def time_feed(
    feed: str, key_types: tuple[type, ...], browse: Callable[[ChangeWindow], list[RecordT]], pages: int
) -> None:
    cursor = None
    rows = 0
    started = time.perf_counter()
    for _ in range(pages):
        page = read_page(feed, key_types, browse, limit=1000, since=None, cursor=cursor)
        rows += len(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    seconds = time.perf_counter() - started
    print(f"{feed}: {rows} rows in {pages} pages of 1000: {seconds:.2f} s ({rows / seconds:,.0f} rows/s)")


if __name__ == "__main__":
    main()
