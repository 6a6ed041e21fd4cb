"""mlc run: queue one stage for one customer now."""

from __future__ import annotations

import argparse
import datetime as dt
import uuid

from ml_cli.arguments import customer_id, deployment_from, stage
from ml_cli.commands import Commands, SharedOptions
from ml_cli.commands.customer import existing_customer
from ml_cli.errors import OperationFailed
from ml_cli.output import print_json
from ml_connector.adapters.work_queue import SqsWorkQueue, WorkQueueSendError
from ml_connector.stage import Stage
from ml_connector.work import WorkOrder


def register(commands: Commands, shared: SharedOptions) -> None:
    run = commands.add_parser(
        "run",
        parents=[shared.target, shared.as_json],
        help="queue one stage for a customer now",
        description="Queue one work order (a fresh cycle, no follow-on stages) on the stage's FIFO work queue, "
        "message group = the customer, so it runs after any run of that stage already queued for the customer. "
        "With --local the command only queues: the running `ml-local up` delivers it on its next tick.",
    )
    run.add_argument("customer_id", type=customer_id, metavar="ID")
    run.add_argument("stage", type=stage, metavar="STAGE", help=", ".join(s.value for s in Stage))
    run.set_defaults(handler=run_command)


def operator_cycle_id() -> str:
    """Distinct from the dispatcher's cycles (and from each other), so the FIFO queue never deduplicates it."""
    return f"mlc-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def run_command(args: argparse.Namespace) -> int:
    deployment = deployment_from(args)
    customer = existing_customer(deployment, args.customer_id)
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
