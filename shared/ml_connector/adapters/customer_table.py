"""Customer items in the customers table (DynamoDB), validated on every read and write."""

from __future__ import annotations

from typing import Any

import boto3

from ml_connector.customers import Customer, InvalidCustomer, customer_to_item, parse_customer_item


class DynamoCustomerDirectory:
    def __init__(self, table_name: str, *, dynamodb: Any | None = None) -> None:
        self._table = (dynamodb or boto3.resource("dynamodb")).Table(table_name)

    def load(self) -> tuple[list[Customer], list[InvalidCustomer]]:
        """Every customer item; the invalid ones are returned apart, with their problems, never raised."""
        valid: list[Customer] = []
        invalid: list[InvalidCustomer] = []
        kwargs: dict[str, Any] = {}
        while True:
            response = self._table.scan(**kwargs)
            for item in response.get("Items", []):
                parsed = parse_customer_item(item)
                (valid if isinstance(parsed, Customer) else invalid).append(parsed)  # type: ignore[arg-type]
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return valid, invalid

    def get(self, customer_id: str) -> Customer | InvalidCustomer | None:
        item = self._table.get_item(Key={"customer_id": customer_id}).get("Item")
        return parse_customer_item(item) if item else None

    def put(self, customer: Customer) -> None:
        self._table.put_item(Item=customer_to_item(customer))

    def delete(self, customer_id: str) -> None:
        self._table.delete_item(Key={"customer_id": customer_id})
