"""DynamoDB hot paths: cast_value, size and dynamo_to_dict answer exactly like moto's own.

Generated values of every DynamoDB type (nested maps and lists, sets, binary as bytes
and as base64 text, unicode strings, number spellings) go through moto's functions and
the direct paths; results (or the exception raised) must be identical, including the
plain-dict form of whole items and the sort order of keys.
"""
from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

from localcloud.ext.speed import dynamodb_hot_paths as hot

NUMBERS = ["0", "-0", "1", "-12.500", "1e3", "1E-130", "123456789012345678901234567890", "0.1", "7"]
STRINGS = ["", "a", "Grüße", "😀 emoji", "x" * 300, "line\nbreak", "i001"]


def _value(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    kinds = ["S", "N", "B", "B64", "SS", "NS", "BS", "BOOL", "NULL"] + (["M", "L"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "S":
        return {"S": rng.choice(STRINGS)}
    if kind == "N":
        return {"N": rng.choice(NUMBERS)}
    if kind == "B":
        return {"B": bytes(rng.randrange(256) for _ in range(rng.randrange(5)))}
    if kind == "B64":
        return {"B": rng.choice(["AAE=", "aGVsbG8="])}
    if kind == "SS":
        return {"SS": rng.sample(STRINGS[1:], 2)}
    if kind == "NS":
        return {"NS": rng.sample(NUMBERS, 2)}
    if kind == "BS":
        return {"BS": [b"\x01", "AAE="]}
    if kind == "BOOL":
        return {"BOOL": rng.random() < 0.5}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "M":
        return {"M": {f"k{n}": _value(rng, depth + 1) for n in range(rng.randrange(4))}}
    return {"L": [_value(rng, depth + 1) for _ in range(rng.randrange(4))]}


VALUES = [_value(random.Random(seed)) for seed in range(400)]


def _outcome(function: Any, *args: Any) -> Any:
    try:
        return ("ok", function(*args))
    except Exception as exc:  # noqa: BLE001 - the same exception is part of the contract
        return ("raised", type(exc))


@pytest.mark.parametrize("raw", VALUES + [{"N": "not-a-number"}, {"S": b"bytes-in-S"}, {"S": True}])
def test_same_as_moto(raw: dict[str, Any]) -> None:
    value = DynamoType(raw)
    assert _outcome(hot.fast_cast_value, value) == _outcome(hot._ORIGINAL_CAST, value)
    assert _outcome(hot.fast_size, value) == _outcome(hot._ORIGINAL_SIZE, value)
    assert hot.fast_dynamo_to_dict(value) == hot._ORIGINAL_TO_DICT(value)


def test_whole_items_and_results() -> None:
    rng = random.Random(7)
    attrs = {"pk": {"S": "user-1"}, "sk": {"N": "5"}, **{f"a{n}": _value(rng) for n in range(30)}}
    item = Item(DynamoType(attrs["pk"]), DynamoType(attrs["sk"]), attrs)
    assert isinstance(item.attrs, LimitedSizeDict)
    result = {"Count": 1, "ScannedCount": 3, "Items": [item.attrs], "LastEvaluatedKey": {"pk": item.hash_key},
              "Table": None, "Flag": True, "Ratio": 0.5}
    assert hot.fast_dynamo_to_dict(result) == hot._ORIGINAL_TO_DICT(result)
    assert hot.fast_dynamo_to_dict(item) == hot._ORIGINAL_TO_DICT(item)  # to_json() objects
    original_size = sum(len(k.encode()) + hot._ORIGINAL_SIZE(v) for k, v in item.attrs.items())
    assert sum(len(k.encode()) + hot.fast_size(v) for k, v in item.attrs.items()) == original_size
    assert hot.fast_item_size(item) == hot._ORIGINAL_ITEM_SIZE(item) == original_size
    item.attrs["unicode_key_é"] = DynamoType({"S": "ü"})
    item.attrs["odd"] = DynamoType({"S": b"bytes"})
    assert hot.fast_item_size(item) == hot._ORIGINAL_ITEM_SIZE(item)


def test_ordering_and_hashing_unchanged() -> None:
    keys = [DynamoType({"N": n}) for n in NUMBERS if n != "1E-130"] + [DynamoType({"N": "1E-130"})]
    by_fast = sorted(keys, key=hot.fast_cast_value)
    by_moto = sorted(keys, key=hot._ORIGINAL_CAST)
    assert [k.value for k in by_fast] == [k.value for k in by_moto]
    strings = [DynamoType({"S": s}) for s in STRINGS]
    assert sorted(strings, key=hot.fast_cast_value) == sorted(strings, key=hot._ORIGINAL_CAST)
    assert {hot.fast_cast_value(DynamoType({"N": "1.0"}))} == {hot._ORIGINAL_CAST(DynamoType({"N": "1"}))}


def test_apply_installs_each_once() -> None:
    from moto.dynamodb import responses

    hot.apply()
    installed = (DynamoType.__dict__["cast_value"], DynamoType.size, responses.dynamo_to_dict)
    hot.apply()
    assert (DynamoType.__dict__["cast_value"], DynamoType.size, responses.dynamo_to_dict) == installed
    assert DynamoType({"N": "2.50"}).cast_value == Decimal("2.5")
    assert DynamoType({"S": "Grüße"}).size() == 7


def _items(seed: int, n: int = 6) -> list[Item]:
    rng = random.Random(seed)
    items = []
    for k in range(n):
        attrs = {"pk": {"S": f"u{k}"}, "sk": {"N": str(k)}, **{f"a{j}": _value(rng) for j in range(8)},
                 "nested": {"M": {"l": {"L": [{"S": "x"}]}}}, "set": {"SS": ["a", "b"]}}
        items.append(Item(DynamoType(attrs["pk"]), DynamoType(attrs["sk"]), attrs))
    return items


def _shape(items: list[Item]) -> list[Any]:
    return [(type(i).__name__, i.hash_key.to_json(), i.range_key and i.range_key.to_json(),
             type(i.attrs).__name__, i.to_json()) for i in items]


@pytest.mark.parametrize("seed", range(20))
def test_result_copies_same_as_moto(seed: int) -> None:
    import copy

    original = _items(seed)
    before = _shape(original)
    fast, moto = hot.fast_deepcopy(original), copy.deepcopy(original)
    assert _shape(fast) == _shape(moto) == before
    for copied, source in zip(fast, original):
        assert copied is not source and copied.attrs is not source.attrs
        for key, value in copied.attrs.items():
            assert type(value) is DynamoType and value == source.attrs[key]
            if value.type in ("L", "M", "SS", "NS", "BS"):
                assert value is not source.attrs[key] and value.value is not source.attrs[key].value
    for copied in fast:  # change every mutable part of the copies the ways moto's updates do
        copied.attrs["nested"].value["l"].value.append(DynamoType({"S": "y"}))
        copied.attrs["nested"]["new"] = DynamoType({"N": "1"})
        copied.attrs["set"].value.append("c")
        copied.attrs["pk"] = DynamoType({"S": "replaced"})
        del copied.attrs["sk"]
    assert _shape(original) == before  # the table's items are untouched
    single = hot.fast_deepcopy(original[3])
    assert single is not original[3] and single.to_json() == original[3].to_json()


def test_result_copy_falls_back_for_other_objects() -> None:
    other = {"a": [1, {"b": DynamoType({"SS": ["x"]})}]}
    copied = hot.fast_deepcopy(other)
    assert copied == {"a": [1, {"b": DynamoType({"SS": ["x"]})}]} and copied["a"] is not other["a"]
    assert hot.fast_deepcopy([]) == []
