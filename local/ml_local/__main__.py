"""ml-local: the local stack on this machine.

ml-local up      start moto with template.yaml deployed, fire the dispatcher on its schedule, deliver queues;
                 stays up until Ctrl-C (the operator CLI finds it through .local-stack/stack.json)
ml-local demo    the whole system end to end with the seeded demo company, then a short report
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from pathlib import Path

from ml_local.demo import demo_systems, describe_systems, keep_running_by_default, run_demo
from ml_local.session import STATE_FILE_NAME, local_stack
from ml_local.template import REPO_ROOT

DEFAULT_WORK_DIR = REPO_ROOT / ".local-stack"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ml-local", description="Run ml-connector locally (moto server mode).")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="where logs and stack.json go")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the local AWS stack and keep it running")
    up.add_argument("--port", type=int, default=4566, help="moto server port on 127.0.0.1 (default 4566)")
    up.add_argument("--tick", type=float, default=60.0, help="seconds between dispatcher firings and queue deliveries")
    up.add_argument(
        "--with-simulators",
        action="store_true",
        help="also run the Sage 100 agent (demo company RCC) and the AvidXchange simulator, and say how to reach them",
    )
    demo = commands.add_parser("demo", help="run the whole system with the demo company and print a report")
    demo.add_argument(
        "--exit", action="store_true", help="stop after the report (default when not run from a terminal)"
    )
    return parser.parse_args(argv)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # a service manager's SIGTERM shuts down like Ctrl-C: moto and the workers stop too


def _up(work_dir: Path, port: int, tick: float, with_simulators: bool) -> None:
    if not 1 <= port <= 65535:
        raise SystemExit(f"ml-local: --port must be 1-65535, not {port}")
    if tick <= 0:
        raise SystemExit(f"ml-local: --tick must be positive, not {tick}")
    signal.signal(signal.SIGTERM, _stop)
    with local_stack(work_dir, port=port) as running, contextlib.ExitStack() as extras:
        print(f"local AWS at {running.aws.endpoint_url}; stack described in {work_dir / STATE_FILE_NAME}")
        if with_simulators:
            systems = extras.enter_context(demo_systems(work_dir))
            print(describe_systems(systems, work_dir))
        print(f"function logs in {work_dir / 'logs'}; every {tick:g}s the dispatcher fires and queues are delivered")
        print("Ctrl-C stops", flush=True)
        try:
            while True:
                running.driver.fire_schedules()
                running.driver.drain()
                time.sleep(tick)
        except KeyboardInterrupt:
            print("stopped")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    if args.command == "up":
        _up(args.work_dir, args.port, args.tick, args.with_simulators)
        return 0
    return run_demo(args.work_dir, keep_running=keep_running_by_default() and not args.exit)


if __name__ == "__main__":
    sys.exit(main())
