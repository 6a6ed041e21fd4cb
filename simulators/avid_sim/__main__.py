"""``avid-sim serve``: run the simulator standalone over HTTPS (the local demo, an operator's sandbox)."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from pydantic import SecretStr, ValidationError

from avid_sim.clock import SimClock
from avid_sim.persistence import STATE_FILE, Autosaver, StateFileError, load_state
from avid_sim.rate_limit import RateLimit
from avid_sim.server import simulator_certificate, start_simulator
from avid_sim.settings import DEFAULT_MAX_IMAGE_BYTES, SimSettings

PROG = "avid-sim"


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        _fail(message)


def _fail(message: str) -> NoReturn:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _port(raw: str) -> int:
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise argparse.ArgumentTypeError(f"port must be a number from 0 to 65535, got {raw!r}")
    return int(raw)


def _positive(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {raw!r}")
    return int(raw)


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog=PROG, description="A simulated AvidConnect API over HTTPS.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    serve = commands.add_parser("serve", help="serve the simulator until interrupted")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8443, help="0 picks a free port")
    serve.add_argument(
        "--state-dir", type=Path, default=Path(".avid-sim"), help="holds the TLS certificate and state.json"
    )
    serve.add_argument("--company-token", default=os.environ.get("AVID_SIM_COMPANY_TOKEN"))
    serve.add_argument("--user-token", default=os.environ.get("AVID_SIM_USER_TOKEN"))
    serve.add_argument("--company-header", default="X-Company-Token")
    serve.add_argument("--user-header", default="X-User-Token")
    serve.add_argument("--max-image-bytes", type=_positive, default=DEFAULT_MAX_IMAGE_BYTES)
    serve.add_argument("--seed", type=int, default=4242, help="seeds card numbers and random faults")
    serve.add_argument(
        "--rate-limit", type=float, metavar="PER_SECOND", help="answer /v1 calls over this rate with 429 (default: off)"
    )
    serve.add_argument(
        "--rate-burst", type=_positive, metavar="CALLS", help="calls allowed at once (default: one second's worth)"
    )
    return parser


def _rate_limit(args: argparse.Namespace) -> RateLimit | None:
    if args.rate_limit is None:
        if args.rate_burst is not None:
            _fail("--rate-burst needs --rate-limit")
        return None
    try:
        return RateLimit.of(args.rate_limit, args.rate_burst)
    except ValueError as exc:
        _fail(f"--rate-limit: {exc}")


def _settings(args: argparse.Namespace) -> SimSettings:
    for option, value in (("--company-token", args.company_token), ("--user-token", args.user_token)):
        if not value:
            _fail(f"{option} is required (or set AVID_SIM_{option[2:].upper().replace('-', '_')})")
    try:
        return SimSettings(
            company_token=SecretStr(args.company_token),
            user_token=SecretStr(args.user_token),
            company_header=args.company_header,
            user_header=args.user_header,
            max_image_bytes=args.max_image_bytes,
            rate_limit=_rate_limit(args),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        _fail(f"--{'-'.join(map(str, first['loc'])).replace('_', '-')}: {first['msg']}")


def _check_can_bind(host: str, port: int) -> None:
    """Fail in one line before uvicorn would log its own multi-line error (the port may still be taken later)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, port))
    except OSError as exc:
        _fail(f"cannot serve on {host}:{port}: {exc.strerror or exc}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = _settings(args)
    try:
        certificate = simulator_certificate(args.state_dir)
    except OSError as exc:
        _fail(f"cannot use --state-dir {args.state_dir}: {exc.strerror or exc}")
    try:
        state = load_state(args.state_dir / STATE_FILE, clock=SimClock(), seed=args.seed)
    except StateFileError as exc:
        _fail(str(exc))
    _check_can_bind(args.host, args.port)
    try:
        simulator = start_simulator(settings, certificate, host=args.host, port=args.port, state=state, seed=args.seed)
    except (RuntimeError, OSError) as exc:
        _fail(f"cannot serve on {args.host}:{args.port}: {exc}")
    autosaver = Autosaver(state, args.state_dir / STATE_FILE).start()
    print(f"AvidConnect simulator at {simulator.server.url}", flush=True)
    print(f"certificate {certificate.cert_path} sha256 {certificate.fingerprint_sha256}", flush=True)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.server.stop()
        autosaver.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
