"""The customer's shared call schedule in the state table: one item whose ``free_at`` is the end of the last turn
reserved (epoch seconds). A claim moves it on atomically, so invocations that claim at once get turns that never
overlap; a claim on an idle schedule starts at the claimer's ``now``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
from botocore.exceptions import ClientError

from ml_connector.errors import RetryLater
from ml_connector.state.dynamodb import _customer_pk, _is_conditional_failure

_CLAIM_ATTEMPTS = 5
_IDLE_FOR = 86_400
"""The item expires (TTL) a day after its last turn: a customer that stops calling leaves nothing behind."""


def _seconds(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


class DynamoCallSchedule:
    def __init__(self, table_name: str, *, dynamodb: Any | None = None) -> None:
        self._table = (dynamodb or boto3.resource("dynamodb")).Table(table_name)

    def claim(self, customer_id: str, calls: int, interval: float, now: float) -> float:
        key = {"pk": _customer_pk(customer_id), "sk": "CALLS#avid"}
        span, at = _seconds(calls * interval), _seconds(now)
        for _ in range(_CLAIM_ATTEMPTS):
            try:  # turns are reserved beyond now: queue behind them
                answer = self._table.update_item(
                    Key=key,
                    UpdateExpression="SET free_at = free_at + :span, expires_at = :expires",
                    ConditionExpression="free_at > :now",
                    ExpressionAttributeValues={":span": span, ":now": at, ":expires": int(now) + _IDLE_FOR},
                    ReturnValues="UPDATED_OLD",
                )
                return float(answer["Attributes"]["free_at"])
            except ClientError as error:
                if not _is_conditional_failure(error):
                    raise
            try:  # the schedule is idle: start now
                self._table.update_item(
                    Key=key,
                    UpdateExpression="SET free_at = :end, expires_at = :expires",
                    ConditionExpression="attribute_not_exists(free_at) OR free_at <= :now",
                    ExpressionAttributeValues={":end": at + span, ":now": at, ":expires": int(now) + _IDLE_FOR},
                )
                return now
            except ClientError as error:
                if not _is_conditional_failure(error):
                    raise
            # Another invocation claimed between the two: its turns are now ahead, so the first form applies.
        raise RetryLater(f"{customer_id}: the AvidXchange call schedule moved under {_CLAIM_ATTEMPTS} claims in a row")
