"""mlc replay and mlc dlq: the record dead-letter queue."""

from __future__ import annotations

import argparse
import datetime as dt

from ml_cli.arguments import customer_id, deployment_from, record_kind
from ml_cli.commands import Commands, SharedOptions
from ml_cli.commands.customer import known_customer
from ml_cli.dead_letters import (
    ReplaySelection,
    peek_dead_letters,
    replay_dead_letters,
    send_retries,
    stranded_failures,
)
from ml_cli.deployment import Deployment
from ml_cli.errors import BadInput, OperationFailed
from ml_cli.output import print_json, table, when
from ml_connector.state.models import AuditEntry, AuditEvent


def register(commands: Commands, shared: SharedOptions) -> None:
    replay = commands.add_parser(
        "replay",
        parents=[shared.target, shared.as_json],
        help="run failed records again: the record DLQ, refusals and flags",
        description="Move failed records from the record DLQ back to the retry queue, which runs them again, and "
        "queue again by key every other matching open failure no queue holds (refused or flagged records, failures "
        "older than the DLQ keeps messages): a replay reads each record afresh from its source. "
        "--all uses SQS's own redrive (a message move task) where available; --customer and --record move only the "
        "matching messages and leave the others in the DLQ. Replay is idempotent by design: the stages recognise "
        "records that already succeeded, so replaying one twice does nothing more. Fix the cause first (see "
        "`mlc failures` and `mlc audit`).",
    )
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every message in the record DLQ")
    which.add_argument("--customer", type=customer_id, metavar="ID", help="every record of customer ID")
    which.add_argument("--record", nargs=3, metavar=("ID", "KIND", "KEY"), help="one record")
    replay.set_defaults(handler=replay_command)

    dlq = commands.add_parser(
        "dlq",
        parents=[shared.target, shared.as_json],
        help="list the record DLQ without consuming it",
        description="List the messages in the record DLQ (customer, kind, key, why it failed) without consuming "
        "them: they are received briefly and made visible again at once.",
    )
    dlq.set_defaults(handler=dlq_command)


def _wait_seconds(deployment: Deployment) -> int:
    # SQS short polls sample a subset of servers and may come back empty early; moto answers every poll in full.
    return 0 if deployment.is_local else 2


def _selection(args: argparse.Namespace) -> ReplaySelection:
    if args.customer:
        return ReplaySelection(customer_id=args.customer)
    if args.record:
        record_customer, kind, key = args.record
        try:
            return ReplaySelection(customer_id=customer_id(record_customer), kind=record_kind(kind), source_key=key)
        except argparse.ArgumentTypeError as error:
            raise BadInput(f"--record: {error}") from None
    return ReplaySelection()


def replay_command(args: argparse.Namespace) -> int:
    selection = _selection(args)
    deployment = deployment_from(args)
    if selection.customer_id is not None:
        known_customer(deployment, selection.customer_id)
    outcome = replay_dead_letters(
        deployment.client("sqs"),
        dlq_url=deployment.record_dlq_url,
        target_url=deployment.retry_queue_url,
        selection=selection,
        wait_seconds=_wait_seconds(deployment),
    )
    now = dt.datetime.now(dt.UTC)
    state = deployment.state()
    stranded = stranded_failures(state.list_failures(selection.customer_id), selection, moved=outcome.replayed, now=now)
    requeued = send_retries(deployment.client("sqs"), deployment.retry_queue_url, stranded, now)
    replayed = [
        *((r, "moved from the record DLQ back to the retry queue by mlc replay") for r in outcome.replayed),
        *((r, "queued again by key by mlc replay (no queue held it)") for r in requeued),
    ]
    if replayed:
        state.append_audit(
            [
                AuditEntry(
                    customer_id=r.customer_id,
                    kind=r.kind,
                    source_key=r.source_key,
                    event=AuditEvent.REPLAYED,
                    at=now,
                    detail=detail,
                )
                for r, detail in replayed
            ]
        )
    if args.json:
        print_json(
            {
                "moved": outcome.moved,
                "requeued": len(requeued),
                "left_in_dlq": outcome.left_in_dlq,
                "move_task_handle": outcome.move_task_handle,
                "failed": outcome.failed,
            }
        )
    elif outcome.move_task_handle:
        print(f"started SQS redrive of about {outcome.moved} message(s) to the retry queue")
        print(f"move task {outcome.move_task_handle}")
    else:
        print(f"moved {outcome.moved} message(s) to the retry queue; {outcome.left_in_dlq} left in the DLQ")
    if not args.json and requeued:
        print(f"queued {len(requeued)} other open failure(s) again by key (refused, flagged or older than the DLQ)")
    if outcome.failed:
        raise OperationFailed(*outcome.failed)
    return 0


def dlq_command(args: argparse.Namespace) -> int:
    deployment = deployment_from(args)
    letters = peek_dead_letters(
        deployment.client("sqs"), deployment.record_dlq_url, wait_seconds=_wait_seconds(deployment)
    )
    if args.json:
        print_json(
            [
                {
                    "message_id": d.message_id,
                    "receive_count": d.receive_count,
                    "sent_at": d.sent_at.isoformat() if d.sent_at else None,
                    **(
                        d.retry.model_dump(
                            mode="json",
                            include={"customer_id", "stage", "kind", "source_key", "reason", "first_failed_at"},
                        )
                        if d.retry
                        else {"body": d.body}
                    ),
                }
                for d in letters
            ]
        )
        return 0
    if not letters:
        print("the record DLQ is empty")
        return 0
    rows = [
        [
            d.retry.customer_id,
            d.retry.stage.value,
            d.retry.kind,
            d.retry.source_key,
            when(d.retry.first_failed_at),
            d.retry.reason,
        ]
        if d.retry
        else ["?", "?", "?", "?", when(d.sent_at), f"not a record retry: {d.body[:80]}"]
        for d in letters
    ]
    rows.sort()
    print(table(["customer", "stage", "kind", "key", "first failed", "reason"], rows))
    print(f"{len(letters)} message(s)")
    return 0
