"""A stand-in handler for the driver's concurrency and back-off tests.

Each record's body says what to do:
  {"id": "a", "meet": 2}           wait until 2 records (any invocation, any worker process) have arrived; record
                                   whether they met. Records handled one after another never meet: only invocations
                                   that overlap in time can.
  {"id": "b", "back_off": 120}     fail the record and hide it for 120 s on SQS's clock, as the retry function does.
Every handled record reaches the fault point "record.done" (where a test can crash the worker) and is then appended
to $RENDEZVOUS_DIR/seen.jsonl.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import boto3

from ml_connector import fault_points

PATIENCE_SECONDS = 30.0


def _meet(room: Path, record_id: str, expected: int) -> bool:
    (room / f"{record_id}.arrived").touch()
    give_up = time.monotonic() + PATIENCE_SECONDS
    while time.monotonic() < give_up:
        if len(list(room.glob("*.arrived"))) >= expected:
            return True
        time.sleep(0.02)
    return False


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    room = Path(os.environ["RENDEZVOUS_DIR"])
    failures = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        seen: dict[str, Any] = {"id": body["id"], "receive_count": record["attributes"]["ApproximateReceiveCount"]}
        if "meet" in body:
            seen["met"] = _meet(room, body["id"], int(body["meet"]))
        if "back_off" in body:
            boto3.client("sqs").change_message_visibility(
                QueueUrl=os.environ["RETRY_QUEUE_URL"],
                ReceiptHandle=record["receiptHandle"],
                VisibilityTimeout=int(body["back_off"]),
            )
            failures.append({"itemIdentifier": record["messageId"]})
        fault_points.reach("record.done")
        with (room / "seen.jsonl").open("a", encoding="utf-8") as out:
            out.write(json.dumps(seen) + "\n")
    return {"batchItemFailures": failures}
