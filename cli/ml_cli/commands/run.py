"""mlc run: queue one stage for one customer now."""

from __future__ import annotations

import argparse
import datetime as dt
import uuid

from ml_cli.arguments import customer_id, deployment_from, stage
from ml_cli.commands import Commands, SharedOptions
from ml_cli.commands.customer import existing_customer
from ml_cli.customer_access import customer_systems
from ml_cli.deployment import Deployment
from ml_cli.errors import OperationFailed
from ml_cli.output import print_json, table
from ml_connector.adapters.work_queue import SqsWorkQueue, WorkQueueSendError
from ml_connector.customers import Customer
from ml_connector.kinds import Stage
from ml_connector.messages import WorkOrder
from ml_connector.preview import DiscardingSealer, PreviewReport, RecordingRetries, preview_stages
from ml_connector.stages.context import StageContext, TimeBudget, utc_now


def register(commands: Commands, shared: SharedOptions) -> None:
    run = commands.add_parser(
        "run",
        parents=[shared.target, shared.as_json],
        help="queue one stage for a customer now",
        description="Queue one work order (a fresh cycle, no follow-on stages) on the stage's FIFO work queue, "
        "message group = the customer, so it runs after any run of that stage already queued for the customer. "
        "With --local the command only queues: the running `ml-local up` delivers it on its next tick. "
        "With --dry-run nothing is queued: the stage runs here, reading both systems and the state with the "
        "customer's credentials and writing nothing anywhere, and prints what it would do.",
    )
    run.add_argument("customer_id", type=customer_id, metavar="ID")
    run.add_argument("stage", type=stage, metavar="STAGE", help=", ".join(s.value for s in Stage))
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="preview: what the stage would create, update, deactivate or post, and what it would skip or fail",
    )
    run.set_defaults(handler=run_command)


def operator_cycle_id() -> str:
    """Distinct from the dispatcher's cycles (and from each other), so the FIFO queue never deduplicates it."""
    return f"mlc-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def run_command(args: argparse.Namespace) -> int:
    deployment = deployment_from(args)
    customer = existing_customer(deployment, args.customer_id)
    if args.dry_run:
        report = preview_run(deployment, customer, args.stage)
        if args.json:
            print_json(report)
        else:
            print_preview(report)
        return 0
    order = WorkOrder(customer_id=customer.customer_id, stage=args.stage, cycle_id=operator_cycle_id())
    queue_url = deployment.work_queue_url(order.stage)
    try:
        SqsWorkQueue(deployment.client("sqs"), deployment.work_queue_url).send([order])
    except WorkQueueSendError as error:
        raise OperationFailed(str(error)) from None
    if args.json:
        print_json(
            {"customer_id": order.customer_id, "stage": order.stage, "cycle_id": order.cycle_id, "queue_url": queue_url}
        )
    else:
        print(f"queued {order.stage} for {order.customer_id} (cycle {order.cycle_id}) on {queue_url}")
        if not customer.enabled:
            print(f"note: customer {order.customer_id} is disabled: the schedule skips it, this one run happens anyway")
    return 0


# A preview from the operator's machine has no Lambda deadline; it goes on until the stage is done.
PREVIEW_SECONDS = 24 * 60 * 60


def preview_run(deployment: Deployment, customer: Customer, stage: Stage) -> PreviewReport:
    # A preview writes nothing, not even the customer's call schedule: it paces its reads alone.
    with customer_systems(deployment, customer, shared_pace=False) as (agent, avid):
        ctx = StageContext(
            customer=customer,
            agent=agent,
            avid=avid,
            state=deployment.state(),
            retries=RecordingRetries(),
            sealer=DiscardingSealer(),
            budget=TimeBudget.for_seconds(PREVIEW_SECONDS),
        )
        return preview_stages(ctx, [stage], clock=utc_now)


def print_preview(report: PreviewReport) -> None:
    for preview in report.stages:
        counts = preview.counts
        print(
            f"preview of {preview.stage} for {report.customer_id} (nothing was written): {counts.read} read, "
            f"{counts.synced} would sync, {counts.unchanged} unchanged, {counts.skipped} skipped, "
            f"{counts.waiting} waiting, {counts.failed} failed"
            + ("" if preview.complete else " (stopped before the end)")
        )
        if preview.changes:
            print(table(["would", "kind", "key"], [[c.change, c.kind, c.source_key] for c in preview.changes]))
        if preview.calls:
            rows = [[c.system, c.operation, c.key, c.detail] for c in preview.calls]
            print(table(["system", "call", "key", "detail"], rows))
        if preview.outcomes:
            rows = [[o.outcome, o.kind, o.source_key, o.reason] for o in preview.outcomes]
            print(table(["would be", "kind", "key", "reason"], rows))
        if preview.retries:
            print(f"{preview.retries} records would go on the retry queue")
