"""DynamoDB: a Query reads only the items of its partition, not the whole table.

moto's ``Table.query`` starts from ``all_items()``: every item of the table, sorted by
primary key with ``DynamoType`` comparisons, then filtered by the hash key condition.
With 200 users of 20 items each, a ``userId-lastChecked-index`` query for one user
took ~80 ms, ~70 ms of it in that sort, and it grows with every user (issue 5 §6).

Here ``all_items()`` is narrowed, for the duration of one ``Table.query`` call, to the
items whose partition key equals the query's hash key value:

* table queries: the partition moto already keeps (``table.items[hash_key]``);
* index queries: a per-table map ``attribute value -> items``, built on first use and
  rebuilt after any DynamoDB request that may have changed items. Any action that is
  not a known read (Get*, BatchGetItem, Query, Scan, TransactGetItems, Describe*,
  List*) invalidates it, after it ran, so the map never outlives a write.

Everything else is moto's own code on a smaller list: the hash key check still runs on
each candidate, and the candidates come in ``all_items()`` order, so results, order,
``Limit`` / ``ExclusiveStartKey`` / ``LastEvaluatedKey``, filters, projections, counts
and errors are unchanged (``tests/localcloud/test_dynamodb_query_index.py`` compares
with the full scan). A candidate set is only ever a superset of the matching items:
a value that cannot be hashed is kept in every bucket.
"""
from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

__all__ = ["READ_ACTIONS", "apply", "candidates", "generation"]

#: DynamoDB actions that never change items (every other action invalidates the maps).
READ_ACTIONS = frozenset({"BatchGetItem", "Query", "Scan", "TransactGetItems"})
_READ_PREFIXES = ("Get", "Describe", "List")

_generation = itertools.count(1)
_current = [0]  # bumped after every possibly-mutating request
_pinned = threading.local()  # (table, candidates) while one Table.query runs
_ATTR = "_localcloud_index_maps"


def generation() -> int:
    """The current write generation (changes after every possibly-mutating request)."""
    return _current[0]


def _bump() -> None:
    _current[0] = next(_generation)


def _is_read(action: str | None) -> bool:
    return bool(action) and (action in READ_ACTIONS or action.startswith(_READ_PREFIXES))


def _primary_order(table: Table, items: list[Item]) -> list[Item]:
    """``items`` in the order moto's ``all_items()`` gives them."""
    if table.range_key_attr:
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
    return sorted(items, key=lambda x: x.hash_key)


def _every_item(table: Table) -> list[Any]:
    if table.range_key_attr:
        return [item for hash_set in table.items.values() for item in hash_set.values()]
    return list(table.items.values())


def _value_map(table: Table, attribute: str) -> tuple[dict[DynamoType, list[Item]], list[Item]]:
    """``({value: items}, items whose value cannot be hashed)`` for one attribute."""
    gen = generation()  # read before building: a write during the build invalidates it
    cached = table.__dict__.get(_ATTR)
    if cached is None or cached[0] != gen:
        cached = (gen, {})
        table.__dict__[_ATTR] = cached
    maps: dict[str, tuple[dict[DynamoType, list[Item]], list[Item]]] = cached[1]
    found = maps.get(attribute)
    if found is None:
        buckets: dict[DynamoType, list[Item]] = {}
        unhashable: list[Item] = []
        for item in _every_item(table):
            if not isinstance(item, Item):
                continue
            value = item.attrs.get(attribute)
            if value is None:
                continue
            try:
                buckets.setdefault(value, []).append(item)
            except TypeError:
                unhashable.append(item)
        found = maps[attribute] = (buckets, unhashable)
    return found


def candidates(
    table: Table,
    hash_key: DynamoType | None,
    index_name: str | None,
    hash_key_conditions: list[tuple[str, DynamoType]] | None,
) -> list[Item] | None:
    """A superset of the items a query can match, in ``all_items()`` order; None = all."""
    try:
        if index_name:
            if not hash_key_conditions:
                return None
            attribute, value = hash_key_conditions[0]
            buckets, unhashable = _value_map(table, attribute)
            return _primary_order(table, buckets.get(value, []) + unhashable)
        if hash_key is None:
            return None
        partition = table.items.get(hash_key)
    except TypeError:  # an unhashable key value: let moto decide on the full table
        return None
    if partition is None:
        return []
    found = list(partition.values()) if table.range_key_attr else [partition]
    return _primary_order(table, [item for item in found if isinstance(item, Item)])


def _narrowed_all_items(original: Callable[[Table], list[Item]]) -> Callable[[Table], list[Item]]:
    @functools.wraps(original)
    def all_items(self: Table) -> list[Item]:
        pinned = getattr(_pinned, "value", None)
        if pinned is not None and pinned[0] is self:
            return list(pinned[1])
        return original(self)

    all_items._localcloud = True  # type: ignore[attr-defined]
    return all_items


def _indexed_query(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def query(self: Table, hash_key: DynamoType | None, range_comparison: str | None,
              range_objs: list[DynamoType], limit: int, exclusive_start_key: dict[str, Any],
              scan_index_forward: bool, projection_expressions: list[list[str]] | None,
              index_name: str | None = None, *args: Any,
              hash_key_conditions: list[tuple[str, DynamoType]] | None = None, **kwargs: Any) -> Any:
        found = candidates(self, hash_key, index_name, hash_key_conditions)
        outer = getattr(_pinned, "value", None)
        _pinned.value = None if found is None else (self, found)
        try:
            return original(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                            scan_index_forward, projection_expressions, index_name, *args,
                            hash_key_conditions=hash_key_conditions, **kwargs)
        finally:
            _pinned.value = outer

    query._localcloud = True  # type: ignore[attr-defined]
    return query


def _invalidating(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def call_action(self: DynamoHandler, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        finally:
            if not _is_read(self._get_action()):
                _bump()

    call_action._localcloud = True  # type: ignore[attr-defined]
    return call_action


def apply() -> None:
    if getattr(Table.query, "_localcloud", False):
        return
    Table.query = _indexed_query(Table.query)  # type: ignore[method-assign]
    Table.all_items = _narrowed_all_items(Table.all_items)  # type: ignore[method-assign]
    DynamoHandler.call_action = _invalidating(DynamoHandler.call_action)  # type: ignore[method-assign]
