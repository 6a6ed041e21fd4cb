"""The local stack's DynamoDB queries (only the queried partition read) answer as moto's own, and so as DynamoDB."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from moto import mock_aws
from moto.dynamodb.models.table import Table

from ml_local import moto_queries


@pytest.fixture(params=["moto", "local-stack"])
def table(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if request.param == "local-stack":
        monkeypatch.setattr(Table, "query", moto_queries.query)
        monkeypatch.setattr(Table, "all_items", moto_queries.all_items)
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        made = dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi1",
                    "KeySchema": [
                        {"AttributeName": "g", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        with made.batch_writer() as batch:
            for pk in ("a", "b", "c"):
                for n in range(12):
                    batch.put_item(Item={"pk": pk, "sk": f"{n:02d}", "g": "even" if n % 2 == 0 else "odd", "v": pk})
        yield made


def pages(table: Any, **query: Any) -> list[list[str]]:
    answers, start = [], None
    while True:
        response = table.query(Limit=5, **query, **({"ExclusiveStartKey": start} if start else {}))
        answers.append([f"{item['pk']}{item['sk']}" for item in response["Items"]])
        start = response.get("LastEvaluatedKey")
        if start is None:
            return answers


def test_a_partition_is_read_in_pages_from_each_start_key(table: Any) -> None:
    assert pages(table, KeyConditionExpression=Key("pk").eq("b")) == [
        ["b00", "b01", "b02", "b03", "b04"], ["b05", "b06", "b07", "b08", "b09"], ["b10", "b11"]
    ]  # fmt: skip


def test_range_conditions_backwards_order_and_an_empty_partition(table: Any) -> None:
    middle = Key("pk").eq("c") & Key("sk").between("03", "08")
    assert pages(table, KeyConditionExpression=middle, ScanIndexForward=False) == [
        ["c08", "c07", "c06", "c05", "c04"], ["c03"]
    ]  # fmt: skip
    assert pages(table, KeyConditionExpression=Key("pk").eq("none")) == [[]]


def test_an_index_query_still_reads_across_partitions(table: Any) -> None:
    listed = [key for page in pages(table, IndexName="gsi1", KeyConditionExpression=Key("g").eq("odd")) for key in page]
    assert sorted(listed) == sorted(f"{pk}{n:02d}" for pk in "abc" for n in range(1, 12, 2))


def test_a_base_table_query_never_lists_the_whole_table(table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    whole_table_reads: list[str] = []
    original = moto_queries._moto_all_items

    def listing(self: Table) -> Any:
        whole_table_reads.append(self.name)
        return original(self)

    monkeypatch.setattr(moto_queries, "_moto_all_items", listing)
    monkeypatch.setattr(Table, "query", moto_queries.query)
    monkeypatch.setattr(Table, "all_items", moto_queries.all_items)

    assert len(table.query(KeyConditionExpression=Key("pk").eq("a"))["Items"]) == 12
    assert whole_table_reads == []
