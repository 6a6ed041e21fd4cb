"""AWS cost per customer-month for the seed's profile, from what one customer's cycles measurably use.

    .venv/bin/python -m benchmarks.cost          # about a minute

The profile: a firm with 200 vendors, 500 GL codes and a few hundred invoices a month (300 new invoices, 100
payments); invoices and payments polled every 15 minutes, vendors and GL every 6 hours, a reconciliation a day, the
dispatcher every 5 minutes for the whole deployment (100 customers share what is shared).

One customer is onboarded on the local stack (its first sync is reported, not counted in the month), then each kind
of step a month is made of is measured once, warm: a dispatcher tick with stages due and one with none; an invoices +
payments poll with no change; the same poll carrying a tenth of the month's activity (30 new invoices, 10 payments);
a vendors + GL poll with no change; a reconciliation. The month is those steps times how often they happen, priced
line by line at list prices (``benchmarks/pricing``): invocations and their measured durations at the template's
memory sizes, DynamoDB request units (estimated from the requests, see ``aws_requests``), SQS, Secrets Manager and
KMS requests, log bytes, and the fixed monthly fees (a secret per customer; the key, custom metrics, alarms and the
dashboard shared by the deployment). Free tiers are left out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from benchmarks.harness import (
    IMAGE_SHARE,
    Bench,
    Tally,
    add_condition_arguments,
    bench_system,
    conditions_from,
    pay_pushed_invoices,
    say,
    work_directory,
)
from benchmarks.pricing import (
    DISPATCHER,
    MONTH_MINUTES,
    Deployment,
    Dispatcher,
    SecretReads,
    Use,
    price,
    print_lines,
)
from benchmarks.tables import table
from ml_connector.kinds import Stage
from ml_connector.messages import ReviewOrder
from ml_connector.state.history import ReviewTask
from sage_agent.backend import ChangeWindow
from sage_agent.records import InvoiceHeaderFields
from sage_agent.simulated.generator import CompanyShape
from sage_agent.simulated.images import make_pdf
from sage_agent.simulated.store import Distribution

# --- the profile ----------------------------------------------------------------------------------------------------
CUSTOMERS = 100
VENDORS = 200
CODES = 500
OPEN_INVOICES = 300
INVOICES_PER_MONTH = 300
PAYMENTS_PER_MONTH = 100
ACTIVITY_BATCHES = 10
"""The month's activity is measured as a tenth of it in one poll (30 invoices and 10 payments), ten times."""
POLL_MINUTES = 15
REFERENCE_HOURS = 6
RECONCILE_HOURS = 24
DISPATCH_MINUTES = 5


@dataclass(frozen=True)
class Step:
    name: str
    per_month: float
    tally: Tally


def top_up_codes(bench: Bench, target: int) -> int:
    """Add GL accounts until the company has ``target`` codes (accounts and cost centers); how many it has."""
    backend = bench.system.agent.backend
    accounts = backend.browse_gl_accounts(ChangeWindow(limit=100_000))
    centers = backend.browse_segment_values(ChangeWindow(limit=100_000), bench.system.customer.cost_center_segment)
    codes = len(accounts) + len(centers)
    divisions = sorted({a.Account.split("-")[1] for a in accounts})
    active_centers = sorted({c.SubAccountCode for c in centers if c.Status == "A"})
    main = 7000
    while codes < target:
        backend.create_segment_value(1, str(main), f"Benchmark expense {main}")
        for division in divisions:
            for center in active_centers:
                if codes < target:
                    backend.create_gl_account(f"{main}-{division}-{center}", f"Benchmark expense {main}")
                    codes += 1
        main += 1
    return codes


def add_activity(bench: Bench, invoices: int, payments: int, batch: int) -> tuple[int, int]:
    """A Sage user enters ``invoices`` (85% with a scan) for vendors already synced; the AP team pays pushed
    invoices in ``payments`` payments; (invoices entered, payments made)."""
    backend = bench.system.agent.backend
    models = [
        invoice
        for key in backend.open_invoice_keys(limit=invoices * 10)
        if (invoice := backend.read_open_invoice(*key)) is not None and invoice.InvoiceAmt > 0
    ]
    today = bench.system.agent.clock.now().strftime("%Y%m%d")
    for number in range(invoices):
        model = models[number % len(models)]
        invoice_no = f"B{batch:02d}{number:05d}"
        backend.create_invoice(
            InvoiceHeaderFields(
                APDivisionNo=model.APDivisionNo,
                VendorNo=model.VendorNo,
                InvoiceNo=invoice_no,
                InvoiceDate=today,
                InvoiceDueDate=today,
            ),
            [Distribution(account_key=model.Lines[0].AccountKey, amount=Decimal("1250.00"))],
        )
        if number % 20 < round(IMAGE_SHARE * 20):
            image = make_pdf([model.VendorNo, f"INVOICE {invoice_no}", "Amount due: $1,250.00"])
            backend.attach_image(model.APDivisionNo, model.VendorNo, invoice_no, image, "application/pdf")
    made, _ = pay_pushed_invoices(bench, max_payments=payments)
    return invoices, made


def poll(bench: Bench, first: Stage, then: Stage, cycle_id: str) -> Tally:
    bench.system.agent.clock.advance(dt.timedelta(minutes=POLL_MINUTES))
    tally, _ = bench.run(first, cycle_id=cycle_id, then=(then,))
    return tally


def reconcile(bench: Bench) -> Tally:
    order = ReviewOrder(customer_id=bench.system.customer_id, task=ReviewTask.RECONCILE, cycle_id="bench-reconcile")
    queue_url = bench.stack.stack.function("DispatcherFunction").environment["RECONCILE_QUEUE_URL"]

    def queue_and_drain() -> None:
        bench.stack.aws.client("sqs").send_message(
            QueueUrl=queue_url,
            MessageBody=order.model_dump_json(),
            MessageGroupId=order.customer_id,
            MessageDeduplicationId=f"{order.deduplication_id}:{uuid.uuid4().hex}",
        )
        bench.stack.driver.drain()

    return bench.measure(queue_and_drain)


# --- the month and its price ----------------------------------------------------------------------------------------


def print_steps(steps: list[Step], onboarding: Tally) -> None:
    rows = []
    for step in [*steps, Step("first sync (onboarding, once)", 0, onboarding)]:
        t = step.tally
        rows.append(
            [
                step.name,
                f"{step.per_month:,.0f}" if step.per_month else "-",
                t.seconds,
                t.describe_invocations(),
                f"{sum(i.seconds for i in t.invocations):.2f}",
                t.agent_total,
                t.avid_calls,
                t.aws.dynamodb_reads(),
                t.aws.dynamodb_writes(),
                f"{t.aws.read_units:g}/{t.aws.write_units:g}",
                t.aws.count("sqs"),
                t.aws.count("secretsmanager"),
                t.aws.count("kms"),
                f"{t.log_bytes / 1024:.1f}",
            ]
        )
    header = ["step", "per month", "wall s", "invocations", "Lambda s", "agent", "Avid", "DDB reads", "writes"]
    print(table([*header, "RRU/WRU", "SQS", "Secrets", "KMS", "log KiB"], rows))
    print(
        "A tick's AWS requests all count as this customer's (with one customer they cannot be told from the tick's"
        " own: a bound); its invocations are the deployment's, shared."
    )


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.cost",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--work-dir", type=Path, default=None, help="keep logs here (default: a temporary directory)")
    add_condition_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    conditions = conditions_from(args)
    shape = CompanyShape(vendors=VENDORS, invoices=OPEN_INVOICES, image_share=IMAGE_SHARE)
    schedules = {"vendors": REFERENCE_HOURS * 60, "gl": REFERENCE_HOURS * 60, "invoices": POLL_MINUTES}
    schedules["payments"] = POLL_MINUTES
    with (
        work_directory(args.work_dir, "bench-cost-") as work_dir,
        bench_system(work_dir, shape, conditions, schedules=schedules, reconcile_every_hours=RECONCILE_HOURS) as bench,
    ):
        codes = top_up_codes(bench, CODES)
        say("dispatcher tick with everything due, then the first sync ...")
        due_tick = bench.measure(bench.stack.driver.fire_schedules)
        onboarding = bench.measure(bench.stack.driver.drain)
        say("the month's steps ...")
        idle_tick = bench.measure(bench.stack.driver.fire_schedules)
        quiet = poll(bench, Stage.INVOICES, Stage.PAYMENTS, "quiet")
        reference = poll(bench, Stage.VENDORS, Stage.GL, "reference")
        review = reconcile(bench)
        entered, paid = add_activity(
            bench, INVOICES_PER_MONTH // ACTIVITY_BATCHES, PAYMENTS_PER_MONTH // ACTIVITY_BATCHES, batch=1
        )
        busy = poll(bench, Stage.INVOICES, Stage.PAYMENTS, "activity")
        deployment = Deployment.of(bench)
    polls = MONTH_MINUTES / POLL_MINUTES
    ticks = MONTH_MINUTES / DISPATCH_MINUTES
    steps = [
        Step("dispatcher tick, stages due", polls, due_tick),
        Step("dispatcher tick, nothing due", ticks - polls, idle_tick),
        Step("invoices + payments, no change", polls - ACTIVITY_BATCHES, quiet),
        Step(f"invoices + payments, {entered} invoices + {paid} payments", ACTIVITY_BATCHES, busy),
        Step("vendors + GL, no change", MONTH_MINUTES / 60 / REFERENCE_HOURS, reference),
        Step("reconciliation", MONTH_MINUTES / 60 / RECONCILE_HOURS, review),
    ]
    month = Use()
    for step in steps:
        month = month.plus(Use.of(step.tally, deployment.esm_fifo).times(step.per_month))
    dispatcher = Dispatcher(ticks, month.seconds.pop(DISPATCHER, 0.0), CUSTOMERS)
    month.invocations.pop(DISPATCHER, None)
    print(f"AWS cost per customer-month: {VENDORS} vendors, {codes} codes, {INVOICES_PER_MONTH} invoices and "
          f"{PAYMENTS_PER_MONTH} payments a month; polls every {POLL_MINUTES} min, reference data every "
          f"{REFERENCE_HOURS} h, a reconciliation every {RECONCILE_HOURS} h, dispatcher every {DISPATCH_MINUTES} min "
          f"for {CUSTOMERS} customers")  # fmt: skip
    print(f"{conditions.describe()}\n")
    print_steps(steps, onboarding)
    print_lines(price(month, dispatcher, SecretReads.of(onboarding), deployment), CUSTOMERS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
