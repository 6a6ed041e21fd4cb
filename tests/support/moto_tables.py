"""Tables for the narrow adapter tests on moto in process."""

from __future__ import annotations

from typing import Any


def keyed_table(dynamodb: Any, name: str) -> Any:
    """A table keyed like the state table (``pk``, ``sk``), billed per request."""
    return dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
