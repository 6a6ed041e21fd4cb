"""``sage-agent``: serve, init, seed, generate, hash-key, fingerprint, service."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from sage_agent.auth import hash_agent_key
from sage_agent.config import ConfigError, load_config, starter_config
from sage_agent.runtime import build_agent, run_agent
from sage_agent.simulated.generator import DEMO_SHAPE, EMPTY_SHAPE, CompanyShape, generate_company
from sage_agent.tls import certificate_fingerprint, ensure_self_signed_certificate
from sage_agent.windows_service import ACTIONS, service_command


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sage-agent", description="The Sage 100 agent of ml-connector.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTPS server")
    serve.add_argument("--config", type=Path, required=True)
    init = commands.add_parser("init", help="write a starter config, a certificate and the demo company")
    init.add_argument("--dir", type=Path, required=True)
    init.add_argument("--port", type=_port, default=8443)
    seed = commands.add_parser("seed", help="create a simulated company database")
    kind = seed.add_mutually_exclusive_group(required=True)
    kind.add_argument("--demo", action="store_true", help="Redrock Construction Co. with vendors and invoices")
    kind.add_argument("--empty", action="store_true", help="the company and its chart of accounts only")
    seed.add_argument("--db", type=Path, required=True)
    generate = commands.add_parser("generate", help="a large simulated company for benchmarks")
    generate.add_argument("--vendors", type=int, required=True)
    generate.add_argument("--invoices", type=int, required=True)
    generate.add_argument("--image-share", type=float, default=0.01)
    generate.add_argument("--seed", type=int, default=1988)
    generate.add_argument("--db", type=Path, required=True)
    commands.add_parser("hash-key", help="print the SHA-256 of an agent key read from the terminal or stdin")
    fingerprint = commands.add_parser("fingerprint", help="print the certificate's SHA-256 fingerprint for pinning")
    fingerprint.add_argument("--config", type=Path, required=True)
    service = commands.add_parser("service", help="install, remove, start or stop the Windows service")
    service.add_argument("action", choices=ACTIONS)
    service.add_argument("--config", type=Path)
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except (ConfigError, FileExistsError, ValueError) as error:
        print(f"sage-agent: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"sage-agent: error: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
        return 2


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (1-65535)")
    return port


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        agent = build_agent(load_config(args.config))
        run_agent(agent)
        return 0
    if args.command == "init":
        return _init(args.dir, args.port)
    if args.command == "fingerprint":
        return _fingerprint(args.config)
    if args.command == "service":
        return service_command(args.action, args.config)
    if args.command == "seed":
        report = generate_company(args.db, DEMO_SHAPE if args.demo else EMPTY_SHAPE, dt.datetime.now())
        print(f"{args.db}: {report.describe()}")
        return 0
    if args.command == "generate":
        if args.vendors < 1 or args.invoices < 0 or not 0 <= args.image_share <= 1:
            raise ValueError("--vendors must be >= 1, --invoices >= 0 and --image-share within 0..1")
        shape = CompanyShape(args.vendors, args.invoices, args.image_share, args.seed)
        report = generate_company(args.db, shape, dt.datetime.now(), progress=print)
        print(f"{args.db}: {report.describe()}")
        return 0
    key = getpass.getpass("agent key: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    print(hash_agent_key(key))
    return 0


def _fingerprint(config_path: Path) -> int:
    cert_file = load_config(config_path).tls.cert_file
    try:
        pem = cert_file.read_bytes()
    except OSError:
        raise ConfigError(
            f"{config_path}: tls.cert_file {cert_file} does not exist yet; `sage-agent serve` creates it"
        ) from None
    try:
        print(certificate_fingerprint(pem))
    except ValueError:
        raise ConfigError(f"{cert_file} is not a PEM certificate") from None
    return 0


def _init(home: Path, port: int) -> int:
    config_path = home / "agent.toml"
    if config_path.exists():
        raise FileExistsError(f"{config_path} exists; remove it or choose another --dir")
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    config_path.write_text(starter_config(hash_agent_key(key), port=port, sqlite_path="data/RCC.sqlite"), "utf-8")
    certificate, _ = ensure_self_signed_certificate(home / "tls" / "agent.crt", home / "tls" / "agent.key")
    (home / "data").mkdir(exist_ok=True)
    report = generate_company(home / "data" / "RCC.sqlite", DEMO_SHAPE, dt.datetime.now())
    print(f"wrote {config_path}")
    print(f"demo company RCC: {report.describe()}")
    print(f"certificate SHA-256 fingerprint: {certificate.fingerprint_sha256}")
    print(f"agent key (shown once; only its hash is stored): {key}")
    print(f"run: sage-agent serve --config {config_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
