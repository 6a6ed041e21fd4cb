"""mlc: operate ml-connector. Every command has --help; errors are one line (exit 2: bad input, 1: failed)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from ml_cli.arguments import json_option, target_options
from ml_cli.commands import (
    SharedOptions,
    audit,
    customer,
    dead_letters,
    failures,
    history,
    ping,
    reconcile,
    report,
    run,
    secrets,
    status,
)
from ml_cli.errors import EXIT_BAD_INPUT, EXIT_FAILED, CliError

PROG = "mlc"
DISTRIBUTION = "ml-connector"
# What a shell reports for a process killed by SIGPIPE: the reader of our output (`| head`) stopped reading.
EXIT_BROKEN_PIPE = 141


def installed_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown (not installed)"


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the command (and where its --help is), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog=PROG,
        description="Operate ml-connector: customers, secrets, ping, runs, status, failures, audit trails and the "
        "record DLQ. Every command takes a target: --local [PATH] (the local stack) or --stack NAME (AWS).",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {installed_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    shared = SharedOptions(target=target_options(), as_json=json_option())
    for module in (customer, secrets, ping, run, status, failures, history, audit, reconcile, report, dead_letters):
        module.register(commands, shared)
    return parser


def _fail(code: int, *lines: str) -> int:
    for line in lines:
        print(f"{PROG}: error: {line}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_BAD_INPUT
    try:
        code: int = args.handler(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # Nothing left to say to a reader that has gone; stdout goes to /dev/null so the final flush is silent too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except CliError as error:
        return _fail(error.exit_code, *error.lines)
    except EndpointConnectionError as error:
        return _fail(EXIT_FAILED, f"{error} (is the local stack up? `ml-local up`)")
    except ClientError as error:
        details = error.response.get("Error", {})
        operation = error.operation_name
        return _fail(EXIT_FAILED, f"AWS {operation} failed: {details.get('Code')}: {details.get('Message')}")
    except BotoCoreError as error:
        return _fail(EXIT_FAILED, f"AWS: {error}")
    except KeyboardInterrupt:
        return _fail(130, "interrupted")
    except Exception as error:
        if os.environ.get("MLC_DEBUG"):
            raise
        return _fail(EXIT_FAILED, f"unexpected {type(error).__name__}: {error} (MLC_DEBUG=1 shows the traceback)")
    return code


if __name__ == "__main__":
    sys.exit(main())
