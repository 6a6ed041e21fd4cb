"""One dispatcher invocation over many customers, through the local stack (moto server mode).

    .venv/bin/python benchmarks/dispatch_scale.py [--customers 2000]

Prints how long the cycle took and what it queued. The dispatcher reads every customer item, checks each customer's
health and stage runs, marks due stages queued (conditional writes) and sends work orders in batches of 10.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from ml_connector.customers import Customer, customer_to_item
from ml_local.session import local_stack


def customer(number: int, secret_prefix: str) -> Customer:
    customer_id = f"bench-{number:05d}"
    return Customer.model_validate(
        {
            "customer_id": customer_id,
            "display_name": f"Benchmark customer {number}",
            "agent": {"base_url": "https://agent.example.invalid:8443", "company": "ABC"},
            "avid": {"base_url": "https://avid.example.invalid"},
            "secret_arn": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{secret_prefix}{customer_id}-AbCdEf",
            "invoice_start_date": dt.date(2026, 1, 1),
            "bank_code": "A",
            "cost_center_segment": 3,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    args = parser.parse_args()
    with local_stack(Path(tempfile.mkdtemp(prefix="ml-dispatch-"))) as stack:
        settings = stack.settings()
        table = stack.aws.resource("dynamodb").Table(settings.customers_table)
        with table.batch_writer() as batch:
            for number in range(args.customers):
                batch.put_item(Item=customer_to_item(customer(number, settings.secret_prefix)))
        ticks = []
        while True:
            started = time.monotonic()
            (summary,) = stack.driver.fire_schedules()
            ticks.append((time.monotonic() - started, len(summary["queued"]), summary["deferred"]))
            if not summary["deferred"]:
                break
        for number, (seconds, queued, deferred) in enumerate(ticks, start=1):
            print(f"tick {number}: {seconds:.1f}s, queued {queued}, deferred {deferred}")
        first = sum(seconds for seconds, _, _ in ticks)
        started = time.monotonic()
        (again,) = stack.driver.fire_schedules()
        second = time.monotonic() - started
        depth = stack.aws.client("sqs").get_queue_attributes(
            QueueUrl=settings.vendors_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        print(f"customers: {args.customers}; all queued after {len(ticks)} tick(s), {first:.1f}s")
        print(f"work orders on the vendors queue: {depth}")
        queued, in_flight = len(again["queued"]), len(again["in_flight"])
        print(f"next cycle (all in flight): {second:.1f}s, queued {queued}, in flight {in_flight}")
        print(f"per customer: {first / args.customers * 1000:.1f} ms (moto on loopback)")


if __name__ == "__main__":
    main()
