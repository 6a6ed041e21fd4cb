"""Options shared by the commands: the target deployment and ``--json``."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ml_cli.deployment import DEFAULT_LOCAL_STACK_FILE, Deployment, aws_deployment, local_deployment
from ml_cli.errors import BadInput
from ml_connector.customers import CUSTOMER_ID_PATTERN
from ml_connector.kinds import RecordKind, Stage

RECORD_KINDS = (
    RecordKind.VENDOR,
    RecordKind.GL_ACCOUNT,
    RecordKind.SEGMENT_VALUE,
    RecordKind.INVOICE,
    RecordKind.PAYMENT,
)


def target_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("target (--local or --stack)")
    group.add_argument(
        "--local",
        nargs="?",
        const=DEFAULT_LOCAL_STACK_FILE,
        type=Path,
        metavar="PATH",
        help=f"the local stack described in PATH (default {DEFAULT_LOCAL_STACK_FILE}, written by `ml-local up`); "
        "put it after the positional arguments or write --local=PATH",
    )
    group.add_argument("--stack", metavar="NAME", help="the CloudFormation stack NAME on AWS (its Outputs)")
    group.add_argument("--profile", help="AWS profile for --stack (default: the usual boto3 chain)")
    group.add_argument("--region", help="AWS region for --stack")
    return parent


def json_option() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--json", action="store_true", help="print JSON for scripts instead of text")
    return parent


def deployment_from(args: argparse.Namespace) -> Deployment:
    if args.stack and args.local is not None:
        raise BadInput("--local and --stack exclude each other: pick one target")
    if args.stack:
        return aws_deployment(args.stack, profile=args.profile, region=args.region)
    if args.profile or args.region:
        raise BadInput("--profile and --region go with --stack NAME, not with the local stack")
    if args.local is None:
        raise BadInput("no target: add --local [PATH] (the local stack) or --stack NAME (AWS)")
    return local_deployment(args.local)


def customer_id(value: str) -> str:
    """argparse type for a customer id (a bad one is exit 2 before anything is called)."""
    if not re.fullmatch(CUSTOMER_ID_PATTERN, value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a customer id (3-40 lower-case letters, digits and dashes, not starting/ending in -)"
        )
    return value


def stage(value: str) -> Stage:
    """argparse type for a stage name; a wrong one is answered with the valid ones."""
    try:
        return Stage(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a stage; the stages are {', '.join(s.value for s in Stage)}"
        ) from None


def positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return int(value)


def writable_file(value: str) -> Path:
    """argparse type for a file to write: its directory must exist (checked before anything is read)."""
    path = Path(value)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"{value}: directory {path.parent} does not exist")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a directory; name a file")
    return path


def record_kind(value: str) -> str:
    """argparse type for a record kind (what the audit trail and the DLQ are keyed by)."""
    if value not in RECORD_KINDS:
        raise argparse.ArgumentTypeError(f"{value!r} is not a record kind; the kinds are {', '.join(RECORD_KINDS)}")
    return value
