"""AWS requests counted at the local moto server, by who made them, service and operation.

moto's own request recorder (``/moto-api/recorder/``) appends every request it serves to a file as one JSON object:
headers and body. It is off unless started, and the benchmarks start it only after the stack is deployed and the
customer configured. Reading the new part of the file after a measured step gives what that step cost in AWS calls:
DynamoDB requests by operation, the items they wrote and the request units they would be billed, and SQS, Secrets
Manager and KMS requests.

Who made a request is told by its User-Agent: the stage functions' processes run with ``AWS_SDK_UA_APP_ID`` set to
``FUNCTION_APP_ID`` (botocore adds ``app/<id>``); the local driver's receives and deletes stand for Lambda's SQS
poller; anything else is the benchmark itself reading results.

Request units are estimates from the request bodies (responses are not recorded): a written item costs one write
unit per started KiB of the item sent (an ``UpdateItem`` is counted as 1, its item is not sent), twice that in a
transaction; a ``GetItem`` or a ``BatchGetItem`` key costs 1 read unit if strongly consistent, else 0.5 (items under
4 KiB), twice that in a transaction; a ``Query`` or ``Scan`` page is counted as one 4 KiB read (a lower bound).
"""

from __future__ import annotations

import base64
import json
import math
import sys
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FUNCTION_APP_ID = "ml-bench-function"
RECORDER_FILE_VARIABLE = "MOTO_RECORDER_FILEPATH"

FUNCTIONS = "functions"
POLLER = "poller"
HARNESS = "harness"
_POLLER_OPERATIONS = frozenset({"ReceiveMessage", "DeleteMessage", "DeleteMessageBatch"})
_READ_CHUNK = 64 * 1024 * 1024

DYNAMODB_READS = ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems")
DYNAMODB_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


@dataclass
class AwsTally:
    """Requests by (caller, service, operation); DynamoDB items written by operation and request units (callers:
    functions only)."""

    requests: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    fifo_requests: Counter[str] = field(default_factory=Counter)
    """SQS requests to FIFO queues, by caller (priced apart from standard queues')."""
    items_written: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0
    bytes_written: int = 0
    """Sizes of the whole items sent by puts (not updates): what stored items grow by, at most."""

    def count(self, service: str, operation: str | None = None, caller: str = FUNCTIONS) -> int:
        return sum(
            n
            for (who, svc, op), n in self.requests.items()
            if who == caller and svc == service and (operation is None or op == operation)
        )

    def dynamodb_reads(self) -> int:
        return sum(self.count("dynamodb", op) for op in DYNAMODB_READS)

    def dynamodb_writes(self) -> int:
        return sum(self.count("dynamodb", op) for op in DYNAMODB_WRITES)


def start_recording(endpoint_url: str) -> None:
    """Empty moto's recording and start it (the server process reads ``RECORDER_FILE_VARIABLE`` at start)."""
    for action in ("reset-recording", "start-recording"):
        request = urllib.request.Request(  # noqa: S310 - the local moto server's own address
            f"{endpoint_url}/moto-api/recorder/{action}", data=b"", method="POST"
        )
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310
            pass


class MotoRecording:
    """Reads what moto appended to its recording since the last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._pending = ""

    def read_new(self) -> AwsTally:
        tally = AwsTally()
        for entry in self._new_entries():
            _count(entry, tally)
        return tally

    def _new_entries(self) -> Iterator[dict[str, Any]]:
        # Concurrent requests append whole JSON objects, but a large one and its newline are two writes: objects
        # are parsed one after another, whatever whitespace lies between them.
        decoder = json.JSONDecoder()
        if not self.path.exists():
            return
        with self.path.open("rb") as recording:
            recording.seek(self._offset)
            while chunk := recording.read(_READ_CHUNK):
                self._offset += len(chunk)
                text = self._pending + chunk.decode("ascii")
                position = 0
                while True:
                    while position < len(text) and text[position].isspace():
                        position += 1
                    try:
                        entry, position = decoder.raw_decode(text, position)
                    except json.JSONDecodeError:
                        break
                    yield entry
                self._pending = text[position:]
        if self._pending.strip():  # every request of the step has been answered: nothing should be half-written
            print(f"moto's recording does not parse from {self._offset - len(self._pending)}: requests after that "
                  "are not counted", file=sys.stderr)  # fmt: skip


def _count(entry: dict[str, Any], tally: AwsTally) -> None:
    headers = {name.lower(): value for name, value in entry.get("headers", {}).items()}
    service = _service(headers)
    body = _body(entry)
    operation = _operation(headers, body, entry)
    caller = _caller(headers, service, operation)
    tally.requests[(caller, service, operation)] += 1
    if service == "sqs" and b".fifo" in body:
        tally.fifo_requests[caller] += 1
    if caller == FUNCTIONS and service == "dynamodb":
        _dynamodb_units(operation, body, tally)


def _service(headers: dict[str, str]) -> str:
    # "AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ..."
    credential = headers.get("authorization", "").split("Credential=", 1)[-1].split(",", 1)[0]
    parts = credential.split("/")
    return parts[3] if len(parts) >= 5 else "unknown"


def _body(entry: dict[str, Any]) -> bytes:
    raw = entry.get("body") or ""
    return base64.b64decode(raw) if entry.get("body_encoded") else str(raw).encode()


def _operation(headers: dict[str, str], body: bytes, entry: dict[str, Any]) -> str:
    target = headers.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    for pair in body.split(b"&"):
        if pair.startswith(b"Action="):
            return pair[len(b"Action=") :].decode()
    return f"{entry.get('method', '?')} {str(entry.get('url', '')).split('?', 1)[0].rsplit('/', 1)[-1]}"


def _caller(headers: dict[str, str], service: str, operation: str) -> str:
    if f"app/{FUNCTION_APP_ID}" in headers.get("user-agent", ""):
        return FUNCTIONS
    if service == "sqs" and operation in _POLLER_OPERATIONS:
        return POLLER
    return HARNESS


def _dynamodb_units(operation: str, body: bytes, tally: AwsTally) -> None:
    request: dict[str, Any] = json.loads(body or b"{}")
    read_unit = 1.0 if request.get("ConsistentRead") else 0.5
    if operation in ("GetItem", "Query", "Scan"):
        tally.read_units += read_unit
    elif operation == "BatchGetItem":
        for table in request.get("RequestItems", {}).values():
            per_key = 1.0 if table.get("ConsistentRead") else 0.5
            tally.read_units += per_key * len(table.get("Keys", []))
    elif operation == "TransactGetItems":
        tally.read_units += 2.0 * len(request.get("TransactItems", []))
    elif operation == "PutItem":
        tally.items_written[operation] += 1
        tally.write_units += _write_units(request.get("Item"), tally)
    elif operation in ("UpdateItem", "DeleteItem"):
        tally.items_written[operation] += 1
        tally.write_units += 1
    elif operation == "BatchWriteItem":
        for writes in request.get("RequestItems", {}).values():
            for write in writes:
                tally.items_written[operation] += 1
                tally.write_units += _write_units(write.get("PutRequest", {}).get("Item"), tally)
    elif operation == "TransactWriteItems":
        for item in request.get("TransactItems", []):
            if "ConditionCheck" not in item:
                tally.items_written[operation] += 1
            tally.write_units += 2 * _write_units(item.get("Put", {}).get("Item"), tally)


def _write_units(item: dict[str, Any] | None, tally: AwsTally) -> int:
    """One unit per started KiB of the item (1 when the item is not in the request)."""
    if not item:
        return 1
    size = item_bytes(item)
    tally.bytes_written += size
    return max(1, math.ceil(size / 1024))


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item in its wire form: attribute names plus values."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: dict[str, Any]) -> int:
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        return len(str(data).lstrip("-").replace(".", "")) // 2 + 1
    if kind == "B":
        return len(base64.b64decode(data))
    if kind in ("SS", "NS", "BS"):
        return sum(_value_bytes({kind[0]: member}) for member in data)
    if kind == "M":
        return 3 + item_bytes(data)
    if kind == "L":
        return 3 + sum(1 + _value_bytes(member) for member in data)
    return 1  # BOOL, NULL
