"""mlc audit: one record's audit trail, in time order."""

from __future__ import annotations

import argparse
from typing import Any

from ml_cli.arguments import RECORD_KINDS, customer_id, deployment_from, record_kind
from ml_cli.commands import Commands, SharedOptions
from ml_cli.commands.customer import known_customer
from ml_cli.output import print_json, table, when
from ml_connector.state.models import AuditEntry

SEALED = "[encrypted]"


def register(commands: Commands, shared: SharedOptions) -> None:
    audit = commands.add_parser(
        "audit",
        parents=[shared.target, shared.as_json],
        help="one record's audit trail",
        description="The audit trail of one record (customer ID, KIND such as vendor or invoice, its Sage KEY) in "
        f"time order. Payloads stored envelope-encrypted are shown as {SEALED}.",
    )
    audit.add_argument("customer_id", type=customer_id, metavar="ID")
    audit.add_argument("kind", type=record_kind, metavar="KIND", help=", ".join(RECORD_KINDS))
    audit.add_argument("source_key", metavar="KEY")
    audit.set_defaults(handler=audit_command)


def entry_for_output(entry: AuditEntry) -> dict[str, Any]:
    shown = entry.model_dump(mode="json", exclude_none=True)
    if entry.sealed_payload is not None:
        shown["sealed_payload"] = SEALED
    return shown


def audit_command(args: argparse.Namespace) -> int:
    deployment = deployment_from(args)
    known_customer(deployment, args.customer_id)
    entries = sorted(deployment.state().list_audit(args.customer_id, args.kind, args.source_key), key=lambda e: e.at)
    if args.json:
        print_json([entry_for_output(e) for e in entries])
        return 0
    if not entries:
        print(f"no audit entries for {args.customer_id} {args.kind} {args.source_key} (expired, or never seen)")
        return 0
    rows = [
        [
            when(e.at),
            e.event.value,
            e.remote_id or "-",
            SEALED if e.sealed_payload is not None else "-",
            "; ".join(part for part in (e.detail, f"error: {e.error}" if e.error else "") if part),
        ]
        for e in entries
    ]
    print(table(["at", "event", "remote id", "payload", "detail"], rows))
    return 0
