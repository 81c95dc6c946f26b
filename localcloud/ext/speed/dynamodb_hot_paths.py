"""DynamoDB: direct paths for the scalar values that make up most items.

Profiling a 20-item ``Query`` on the local cloud (issue 5 §6) after the serializer
fix left moto's per-attribute helpers on top, each called thousands of times per
request and each walking a chain of ``is_number()`` / ``is_set()`` / ``is_list()``
/ ``is_map()`` method calls before reaching the common case:

* ``DynamoType.cast_value`` (every ``==``, ``<`` and ``hash`` of a key: sorting a
  partition, matching hash keys, ExclusiveStartKey);
* ``DynamoType.size`` and ``Item.size`` (twice per result item for the 1 MB page
  limit, and on every attribute write through ``LimitedSizeDict``);
* ``dynamo_to_dict`` (turns every returned item back into plain dicts);
* ``copy.deepcopy`` of the matching items in ``Table.query`` / ``Table.scan`` (moto
  copies results before projecting them): a new ``DynamoType`` per attribute.
  Here the copy gets new items and attribute dicts, and new copies of list, map and
  set values (moto changes those in place on update), while string, number, binary,
  boolean and null values are shared: moto never changes such a ``DynamoType`` in
  place (updates put a new one into the item), so sharing them is the same as
  copying them.

Each gets a direct path for strings and numbers (and, for ``dynamo_to_dict``, the
dicts and lists around them) that computes exactly what moto computes; every other
type or shape goes to moto's own function unchanged. ``tests/localcloud/
test_dynamodb_hot_paths.py`` compares both on generated values of every type.
"""
from __future__ import annotations

import copy
import functools
import types
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from moto.dynamodb import responses
from moto.dynamodb.models import table as table_module
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize

__all__ = ["apply", "fast_cast_value", "fast_deepcopy", "fast_dynamo_to_dict", "fast_item_size", "fast_size"]

_ORIGINAL_CAST = DynamoType.cast_value.fget  # type: ignore[attr-defined]
_ORIGINAL_SIZE = DynamoType.size
_ORIGINAL_ITEM_SIZE = Item.size
_ORIGINAL_TO_DICT = responses.dynamo_to_dict
_SCALARS = ("S", "N", "BOOL", "NULL")


def fast_cast_value(self: DynamoType) -> Any:
    """``DynamoType.cast_value``: S as is, N as Decimal, anything else as moto does."""
    kind = self.type
    if kind == "S":
        return self.value
    if kind == "N":
        return Decimal(self.value)
    return _ORIGINAL_CAST(self)


def fast_size(self: DynamoType) -> int:
    """``DynamoType.size``: the UTF-8 length of a string, the digits of a number."""
    kind = self.type
    value = self.value
    if kind == "S" and type(value) is str:
        return len(value.encode("utf-8"))
    if kind == "N":
        return len(str(value))
    return _ORIGINAL_SIZE(self)


def fast_item_size(self: Item) -> int:
    """``Item.size``: the sum of name and value sizes, strings and numbers inline."""
    total = 0
    for key, value in self.attrs.items():
        total += len(key.encode("utf-8")) if type(key) is str else bytesize(key)
        kind = value.type
        raw = value.value
        if kind == "S" and type(raw) is str:
            total += len(raw.encode("utf-8"))
        elif kind == "N":
            total += len(str(raw))
        else:
            total += value.size()
    return total


def fast_dynamo_to_dict(obj: Any) -> Any:
    """``dynamo_to_dict`` with direct cases for plain containers and scalar values."""
    kind = type(obj)
    if kind is DynamoType:
        value = obj.value
        if obj.type in _SCALARS and type(value) in (str, bool):
            return {obj.type: value}
        return _ORIGINAL_TO_DICT(obj)
    if kind is dict or kind is LimitedSizeDict:
        return {k: fast_dynamo_to_dict(v) for k, v in obj.items()}
    if kind is list:
        return [fast_dynamo_to_dict(v) for v in obj]
    if kind is str or kind is int or kind is bool or obj is None:
        return obj
    return _ORIGINAL_TO_DICT(obj)


_IMMUTABLE = ("S", "N", "B", "BOOL", "NULL")


def _copy_value(value: Any, memo: dict[int, Any]) -> Any:
    if type(value) is DynamoType and value.type in _IMMUTABLE and type(value.value) in (str, bytes, bool):
        return value  # never changed in place by moto: sharing it equals copying it
    return copy.deepcopy(value, memo)


def _copy_item(item: Item, memo: dict[int, Any]) -> Item:
    """What ``Item.__deepcopy__`` builds: a new item and attribute dict, values copied."""
    done = memo.get(id(item))
    if done is not None:
        return done  # type: ignore[no-any-return]
    result = Item.__new__(Item)
    memo[id(item)] = result
    result.hash_key = _copy_value(item.hash_key, memo)
    result.range_key = _copy_value(item.range_key, memo)
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(attrs)  # no size re-check: the source passed it on write (as moto's copy)
    for key, value in item.attrs.items():
        dict.__setitem__(attrs, key, _copy_value(value, memo))
    result.attrs = attrs
    return result


def fast_deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """``copy.deepcopy`` as the table module uses it: direct for an Item or a list of Items."""
    if memo is None:
        memo = {}
    if type(value) is Item:
        return _copy_item(value, memo)
    if type(value) is list and all(type(v) is Item for v in value):
        return [_copy_item(v, memo) for v in value]
    return copy.deepcopy(value, memo)


def _marked(function: Callable[..., Any]) -> Callable[..., Any]:
    function._localcloud = True  # type: ignore[attr-defined]
    return function


def apply() -> None:
    if getattr(responses.dynamo_to_dict, "_localcloud", False):
        return
    DynamoType.cast_value = property(_marked(functools.wraps(_ORIGINAL_CAST)(fast_cast_value)))  # type: ignore[method-assign,assignment]
    DynamoType.size = _marked(functools.wraps(_ORIGINAL_SIZE)(fast_size))  # type: ignore[method-assign]
    Item.size = _marked(functools.wraps(_ORIGINAL_ITEM_SIZE)(fast_item_size))  # type: ignore[method-assign]
    shim = types.ModuleType("copy", copy.__doc__)  # the table module's view of ``copy``
    shim.__dict__.update({k: v for k, v in vars(copy).items() if not k.startswith("__")})
    shim.deepcopy = _marked(functools.wraps(copy.deepcopy)(fast_deepcopy))  # type: ignore[attr-defined]
    table_module.copy = shim  # type: ignore[attr-defined]
    responses.dynamo_to_dict = _marked(functools.wraps(_ORIGINAL_TO_DICT)(fast_dynamo_to_dict))
