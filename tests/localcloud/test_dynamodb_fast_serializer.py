"""DynamoDB gap fill: the direct ``AttributeValue`` serializer answers exactly like moto's.

Two levels: in-process, the same handler results go through moto's generic JSON
serializer and through ``DynamoJSONSerializer`` and must give byte-identical bodies
(every member kind, nesting, blobs as bytes and as str, and the malformed values the
direct path leaves to the generic code); over HTTP, a boto3 round trip of an item of
every kind comes back unchanged from GetItem, Query, Scan and BatchGetItem.
"""
from __future__ import annotations

import copy
import uuid
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto.core.serialize import JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model

from localcloud.ext.speed.dynamodb_fast_serializer import DynamoJSONSerializer

NESTED = {"M": {"a": {"S": "x"}, "b": {"L": [{"N": "1"}, {"M": {}}, {"L": []}, {"NULL": True}]},
                "c": {"BOOL": False}, "d": {"B": b"\x00\xff"}, "e": {"SS": ["p", "q"]}}}
ITEM = {
    "pk": {"S": "user-1"}, "empty": {"S": ""}, "unicode": {"S": "Grüße ✓ 😀"},
    "n": {"N": "-12.500"}, "big": {"N": "123456789012345678901234567890"},
    "b_bytes": {"B": b"\x00\x01binary"}, "b_str": {"B": "already-text"},
    "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"\x01", "text"]},
    "null": {"NULL": True}, "t": {"BOOL": True}, "f": {"BOOL": False},
    "l": {"L": [{"S": "x"}, {"N": "1"}, NESTED]}, "m": NESTED, "empty_m": {"M": {}},
}
# Values the direct path does not recognise: the generic code must decide, unchanged.
ODD = {
    "two_members": {"S": "x", "N": "1"}, "no_member": {}, "none_member": {"S": None},
    "unknown": {"X": "1"}, "int_number": {"N": 5}, "none_in_map": {"M": {"a": None, "b": {"S": "y"}}},
    "none_in_list": {"L": [None, {"S": "z"}]}, "tuple_set": {"SS": ("a", "b")}, "bool_null": {"NULL": 1},
}


def _body(cls: type[JSONSerializer], operation: str, result: dict[str, Any]) -> Any:
    model = get_service_model("dynamodb").operation_model(operation)
    serializer = cls(operation_model=model, pretty_print=False, value_picker=XFormedAttributePicker())
    return serializer.serialize(result if isinstance(result, Exception) else copy.deepcopy(result))


@pytest.mark.parametrize("operation, result", [
    ("Query", {"Items": [ITEM, {"pk": {"S": "2"}}], "Count": 2, "ScannedCount": 2,
               "LastEvaluatedKey": {"pk": {"S": "2"}}, "ConsumedCapacity": {"TableName": "t",
                                                                              "CapacityUnits": 1.0}}),
    ("Query", {"Items": [ODD], "Count": 1, "ScannedCount": 1}),
    ("Query", {"Items": [{**ITEM, **ODD}], "Count": 1, "ScannedCount": 1}),
    ("Query", {"Count": 3, "ScannedCount": 5}),
    ("GetItem", {"Item": ITEM}),
    ("GetItem", {}),
    ("Scan", {"Items": [ITEM, ODD], "Count": 2, "ScannedCount": 2}),
    ("BatchGetItem", {"Responses": {"t": [ITEM]}, "UnprocessedKeys": {}}),
    ("PutItem", {"Attributes": ITEM}),
    ("UpdateItem", {"Attributes": ODD}),
    ("TransactGetItems", {"Responses": [{"Item": ITEM}, {}]}),
])
def test_same_body_as_moto(operation: str, result: dict[str, Any]) -> None:
    assert _body(DynamoJSONSerializer, operation, result) == _body(JSONSerializer, operation, result)


def test_direct_path_is_taken() -> None:
    """The test above would pass with no fast path at all: prove it is used."""
    calls = []
    original = DynamoJSONSerializer._attribute_value

    def spy(self: DynamoJSONSerializer, value: dict[str, Any], shape: Any) -> Any:
        calls.append(value)
        return original(self, value, shape)

    DynamoJSONSerializer._attribute_value = spy  # type: ignore[method-assign]
    try:
        _body(DynamoJSONSerializer, "GetItem", {"Item": {"a": {"S": "x"}}})
    finally:
        DynamoJSONSerializer._attribute_value = original  # type: ignore[method-assign]
    assert calls == [{"S": "x"}]


def test_every_kind_round_trips_over_http(dynamodb_cloud: str) -> None:
    client = boto3.client("dynamodb")
    resource = boto3.resource("dynamodb")
    name = f"serializer-{uuid.uuid4().hex[:8]}"
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    try:
        item = {"pk": "k1", "s": "Grüße 😀", "empty": "", "n": Decimal("-12.5"), "b": b"\x00\xffraw",
                "ss": {"a", "b"}, "ns": {Decimal(1), Decimal("2.5")}, "bs": {b"\x01", b"\x02"},
                "null": None, "t": True, "l": ["x", Decimal(1), {"deep": [b"\x03", None]}],
                "m": {"a": {"b": {"c": "d"}}, "e": []}}
        table = resource.Table(name)
        table.put_item(Item=item)
        assert table.get_item(Key={"pk": "k1"}, ConsistentRead=True)["Item"] == item
        assert table.query(KeyConditionExpression="pk = :k",
                           ExpressionAttributeValues={":k": "k1"})["Items"] == [item]
        assert table.scan()["Items"] == [item]
        got = resource.batch_get_item(RequestItems={name: {"Keys": [{"pk": "k1"}]}})
        assert got["Responses"][name] == [item]
        old = table.put_item(Item={"pk": "k1"}, ReturnValues="ALL_OLD")["Attributes"]
        assert old == item
    finally:
        client.delete_table(TableName=name)
