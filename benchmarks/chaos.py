"""The chaos suite as a table: each scenario attacks full cycles of a company on the local stack, then recovers and
replays, then both systems are read for what was lost, doubled or wrong (see tests/chaos/).

    .venv/bin/python benchmarks/chaos.py                       # every scenario on the demo company
    .venv/bin/python benchmarks/chaos.py --long                # every scenario on a scaled company
    .venv/bin/python benchmarks/chaos.py --scenario crashes-at-named-points --share 0.2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from ml_local.session import local_stack  # noqa: E402
from sage_agent.simulated.generator import CompanyShape  # noqa: E402
from tests.chaos.scenarios import HEADER, SCENARIOS, run_scenario  # noqa: E402


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/chaos.py", description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="a scaled company instead of the demo company")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="run only these (repeatable)")
    parser.add_argument("--share", type=float, default=0.1, help="share of calls that fail on each system (0-1)")
    parser.add_argument("--vendors", type=int, default=1_000, help="scaled company: vendors (with --long)")
    parser.add_argument("--invoices", type=int, default=5_000, help="scaled company: open invoices (with --long)")
    args = parser.parse_args(argv)
    if not 0 <= args.share <= 1:
        parser.error(f"--share must be between 0 and 1, not {args.share}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    names = args.scenario or sorted(SCENARIOS)
    shape = CompanyShape(vendors=args.vendors, invoices=args.invoices, image_share=0.85) if args.long else None
    rows = []
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp, local_stack(Path(tmp) / "stack") as stack:
        for name in names:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            rows.append(run_scenario(stack, Path(tmp) / "runs", SCENARIOS[name], share=args.share, shape=shape))
    print(HEADER)
    for row in rows:
        print(row.line())
    for row in rows:
        for line in row.details():
            print(line)
    return 0 if all(not (r.lost or r.doubled or r.wrong or r.leaks) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
