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
import tempfile
import time
from pathlib import Path

from ml_local.demo import demo_systems, describe_systems, keep_running_by_default, run_demo
from ml_local.session import STATE_FILE_NAME, LocalStackError, local_stack
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
        "--clock-scale",
        type=float,
        default=1.0,
        help="SQS time runs this many times as fast (60: a 2-minute retry back-off passes in 2 s); default 1",
    )
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


def _stop_on_signals() -> None:
    # SIGINT too: a process started in the background by a non-interactive shell inherits SIGINT ignored, and
    # Python then installs no handler of its own, so `kill -INT` would be ignored until SIGTERM.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)


def _up(work_dir: Path, port: int, tick: float, with_simulators: bool, clock_scale: float = 1.0) -> None:
    if not 1 <= port <= 65535:
        raise SystemExit(f"ml-local: --port must be 1-65535, not {port}")
    if tick <= 0:
        raise SystemExit(f"ml-local: --tick must be positive, not {tick}")
    if clock_scale <= 0:
        raise SystemExit(f"ml-local: --clock-scale must be positive, not {clock_scale}")
    _stop_on_signals()
    with (
        local_stack(work_dir, port=port, clock_scale=clock_scale, skip_idle_time=False) as running,
        contextlib.ExitStack() as extras,
    ):
        print(f"local AWS at {running.aws.endpoint_url}; stack described in {work_dir / STATE_FILE_NAME}")
        if with_simulators:
            systems = extras.enter_context(demo_systems(work_dir))
            print(describe_systems(systems, work_dir))
        print(f"function logs in {work_dir / 'logs'}; every {tick:g}s the dispatcher fires and queues are delivered")
        print("Ctrl-C stops", flush=True)
        while True:
            running.driver.fire_schedules()
            running.driver.drain()
            time.sleep(tick)


def _usable_work_dir(work_dir: Path) -> str | None:
    """Why ``work_dir`` cannot hold the stack's files, or None."""
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=work_dir):
            pass
    except OSError as error:
        return f"cannot use --work-dir {work_dir}: {error.strerror or type(error).__name__}"
    return None


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    problem = _usable_work_dir(args.work_dir)
    if problem is not None:
        print(f"ml-local: {problem}", file=sys.stderr)
        return 2
    try:
        if args.command == "up":
            try:
                _up(args.work_dir, args.port, args.tick, args.with_simulators, args.clock_scale)
            except KeyboardInterrupt:  # at any point, starting up included: the stack was stopped on the way out
                print("stopped")
            return 0
        return run_demo(args.work_dir, keep_running=keep_running_by_default() and not args.exit)
    except LocalStackError as error:
        print(f"ml-local: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
