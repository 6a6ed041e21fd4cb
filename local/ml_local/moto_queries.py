"""DynamoDB queries on the local moto server read only the queried partition.

moto answers every Query page by sorting every item of the table (``Table.all_items``) and keeping the queried
partition's: once the state table holds a few hundred thousand items, each page of a long listing takes seconds, an
artefact AWS (which reads the partition from the page's start key) does not have. Here a base-table query is handed
only its partition's items; the rest of the query (sort, start key, limits, conditions, projection) is moto's own,
and so are index queries and scans.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

_moto_all_items = Table.all_items
_moto_query = Table.query
_INDEX_NAME_AT = 6  # Table.query's positional arguments after hash_key, as moto's backend passes them
_scope = threading.local()


def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    index_name = args[_INDEX_NAME_AT] if len(args) > _INDEX_NAME_AT else kwargs.get("index_name")
    if index_name or hash_key is None:
        return _moto_query(self, hash_key, *args, **kwargs)
    _scope.partition = (self, hash_key)
    try:
        return _moto_query(self, hash_key, *args, **kwargs)
    finally:
        _scope.partition = None


def all_items(self: Table) -> list[Item]:
    scoped = getattr(_scope, "partition", None)
    if scoped is None or scoped[0] is not self:
        return _moto_all_items(self)
    partition = self.items.get(scoped[1])
    if partition is None:
        return []
    return list(partition.values()) if self.range_key_attr else [partition]


def install() -> None:
    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
