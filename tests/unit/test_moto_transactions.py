"""The local stack's DynamoDB transactions (no whole-table copies) answer as moto's own, and so as DynamoDB."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from ml_local import moto_transactions
from tests.support.moto_tables import keyed_table


@pytest.fixture(params=["moto", "local-stack"])
def table(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if request.param == "local-stack":
        monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_transactions.transact_write_items)
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        yield keyed_table(dynamodb, "t")


def put(pk: str, condition: str | None = None, **attributes: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {"TableName": "t", "Item": {"pk": pk, "sk": "x", **attributes}}
    if condition is not None:
        operation |= {"ConditionExpression": condition, "ExpressionAttributeValues": {":o": "w1"}}
    return {"Put": operation}


def items(table: Any) -> dict[str, dict[str, Any]]:
    return {item["pk"]: item for item in table.scan()["Items"]}


def test_all_conditions_hold_so_every_item_is_written(table: Any) -> None:
    table.put_item(Item={"pk": "lease", "sk": "x", "lease_owner": "w1"})
    table.meta.client.transact_write_items(
        TransactItems=[put("audit-1"), put("audit-2"), put("lease", "lease_owner = :o", lease_owner="w1", state="done")]
    )
    assert set(items(table)) == {"audit-1", "audit-2", "lease"}
    assert items(table)["lease"]["state"] == "done"


def test_one_failed_condition_writes_nothing_and_names_the_item(table: Any) -> None:
    table.put_item(Item={"pk": "lease", "sk": "x", "lease_owner": "w2"})
    with pytest.raises(ClientError) as raised:
        table.meta.client.transact_write_items(
            TransactItems=[put("audit-1"), put("lease", "lease_owner = :o", state="done"), put("audit-2")]
        )
    reasons = [reason["Code"] for reason in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed", "None"]
    assert items(table) == {"lease": {"pk": "lease", "sk": "x", "lease_owner": "w2"}}


def test_two_operations_on_one_item_are_refused(table: Any) -> None:
    with pytest.raises(ClientError, match="multiple operations on one item"):
        table.meta.client.transact_write_items(TransactItems=[put("same"), put("same", flag="again")])
    assert items(table) == {}


def test_deletes_go_with_the_puts(table: Any) -> None:
    table.put_item(Item={"pk": "open", "sk": "x"})
    table.meta.client.transact_write_items(
        TransactItems=[put("audit-1"), {"Delete": {"TableName": "t", "Key": {"pk": "open", "sk": "x"}}}]
    )
    assert set(items(table)) == {"audit-1"}
