"""DynamoDB gap fill: Query reads only its partition, with moto's answers unchanged.

One scenario of writes and queries runs twice: against the local cloud (narrowed
candidates, value maps, direct serializer) and against moto as installed, in-process
(the oracle). Every answer must be equal: pages over a GSI with equal sort keys in
both directions, Limit with a filter, projections, Select COUNT, range conditions,
table queries, sparse index items, and the errors of a missing index, a bad
expression and a consistent read on a GSI. Writes of every kind (PutItem,
UpdateItem moving an item between GSI partitions, DeleteItem, BatchWriteItem,
TransactWriteItems, PartiQL) sit between the queries, so a stale value map would show.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud.ext.speed import dynamodb_query_index as qi

GSI = "userId-lastChecked-index"
Client = Any


def _create(client: Client, name: str) -> None:
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in
                              (("itemId", "S"), ("userId", "S"), ("lastChecked", "N"),
                               ("shard", "S"))],
        KeySchema=[{"AttributeName": "itemId", "KeyType": "HASH"},
                   {"AttributeName": "userId", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {"IndexName": GSI, "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": "userId", "KeyType": "HASH"},
                           {"AttributeName": "lastChecked", "KeyType": "RANGE"}]},
            {"IndexName": "shard-index", "Projection": {"ProjectionType": "KEYS_ONLY"},
             "KeySchema": [{"AttributeName": "shard", "KeyType": "HASH"}]},
        ])


def _item(n: int, user: str, checked: int | None, **extra: Any) -> dict[str, Any]:
    item = {"itemId": {"S": f"i{n:03d}"}, "userId": {"S": user}, "shard": {"S": f"s{n % 3}"},
            "price": {"N": str(n % 7)}, "title": {"S": f"Product {n}"},
            "tags": {"SS": [f"t{n % 2}", "all"]}, "meta": {"M": {"n": {"N": str(n)}}}}
    if checked is not None:
        item["lastChecked"] = {"N": str(checked)}
    item.update(extra)
    return item


def _sets_sorted(value: Any) -> Any:
    """DynamoDB sets have no order (moto's follows Python's per-process string hashing)."""
    if isinstance(value, dict):
        return {k: sorted(v) if k in ("SS", "NS", "BS") and isinstance(v, list) else _sets_sorted(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_sets_sorted(v) for v in value]
    return value


def _call(out: list[Any], fn: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any] | None:
    try:
        got = fn(**kwargs)
    except ClientError as exc:
        out.append(("error", exc.response["Error"]["Code"], exc.response["Error"]["Message"]))
        return None
    got.pop("ResponseMetadata", None)
    out.append(_sets_sorted(got))
    return got


def _pages(out: list[Any], client: Client, **kwargs: Any) -> None:
    """Every page of a query, following LastEvaluatedKey."""
    start = None
    for _ in range(100):
        got = _call(out, client.query, **kwargs, **({"ExclusiveStartKey": start} if start else {}))
        start = got and got.get("LastEvaluatedKey")
        if not start:
            return
    raise AssertionError("pagination did not end")


def _queries(out: list[Any], client: Client, t: str) -> None:
    u = {":u": {"S": "alice"}}
    for forward in (True, False):
        for limit in (1, 2, 3, 50):
            _pages(out, client, TableName=t, IndexName=GSI, KeyConditionExpression="userId = :u",
                   ExpressionAttributeValues=u, ScanIndexForward=forward, Limit=limit)
    _pages(out, client, TableName=t, IndexName=GSI, Limit=2, ScanIndexForward=False,
           KeyConditionExpression="userId = :u AND lastChecked BETWEEN :a AND :b",
           ExpressionAttributeValues={**u, ":a": {"N": "100"}, ":b": {"N": "300"}})
    _pages(out, client, TableName=t, IndexName=GSI, Limit=3, KeyConditionExpression="userId = :u",
           FilterExpression="price > :p", ExpressionAttributeValues={**u, ":p": {"N": "2"}})
    _pages(out, client, TableName=t, IndexName=GSI, Limit=4, KeyConditionExpression="#u = :u",
           ProjectionExpression="title, #m.n, tags", ExpressionAttributeNames={"#u": "userId", "#m": "meta"},
           ExpressionAttributeValues=u)
    _pages(out, client, TableName=t, IndexName=GSI, Select="COUNT", Limit=3,
           KeyConditionExpression="userId = :u", ExpressionAttributeValues=u)
    _call(out, client.query, TableName=t, IndexName=GSI, KeyConditionExpression="userId = :u",
          ExpressionAttributeValues={":u": {"S": "nobody"}})
    _pages(out, client, TableName=t, IndexName="shard-index", Limit=2, ScanIndexForward=False,
           KeyConditionExpression="shard = :s", ExpressionAttributeValues={":s": {"S": "s1"}})
    for forward in (True, False):
        _pages(out, client, TableName=t, KeyConditionExpression="itemId = :i AND begins_with(userId, :p)",
               ExpressionAttributeValues={":i": {"S": "i001"}, ":p": {"S": "a"}}, ScanIndexForward=forward,
               Limit=1)
    _call(out, client.query, TableName=t, KeyConditionExpression="itemId = :i",
          ExpressionAttributeValues={":i": {"S": "missing"}})
    _call(out, client.query, TableName=t, IndexName="no-such-index", KeyConditionExpression="userId = :u",
          ExpressionAttributeValues=u)
    _call(out, client.query, TableName=t, IndexName=GSI, KeyConditionExpression="price = :u",
          ExpressionAttributeValues=u)
    _call(out, client.query, TableName=t, IndexName=GSI, KeyConditionExpression="userId = :u",
          ExpressionAttributeValues=u, ConsistentRead=True)
    _call(out, client.query, TableName=t, IndexName=GSI, KeyConditionExpression="userId = :u",
          ExpressionAttributeValues={":other": {"S": "x"}})


def scenario(client: Client, t: str) -> list[Any]:
    """Writes and queries; every answer (or error) in order."""
    out: list[Any] = []
    _create(client, t)
    for n in range(12):  # alice: several items share lastChecked 200 (ties across pages)
        checked = None if n == 11 else (200 if n % 3 == 0 else 100 + 20 * n)
        client.put_item(TableName=t, Item=_item(n, "alice", checked))
    client.put_item(TableName=t, Item=_item(1, "anna", 150))  # same itemId, other userId
    for n in range(12, 16):
        client.put_item(TableName=t, Item=_item(n, "bob", 200))
    _queries(out, client, t)
    # writes of every kind, then the same queries again
    client.update_item(TableName=t, Key={"itemId": {"S": "i002"}, "userId": {"S": "alice"}},
                       UpdateExpression="SET lastChecked = :c", ExpressionAttributeValues={":c": {"N": "999"}})
    client.update_item(TableName=t, Key={"itemId": {"S": "i011"}, "userId": {"S": "alice"}},
                       UpdateExpression="SET lastChecked = :c", ExpressionAttributeValues={":c": {"N": "5"}})
    client.delete_item(TableName=t, Key={"itemId": {"S": "i003"}, "userId": {"S": "alice"}})
    client.put_item(TableName=t, Item=_item(40, "alice", 200))
    client.batch_write_item(RequestItems={t: [
        {"PutRequest": {"Item": _item(41, "alice", 250)}},
        {"DeleteRequest": {"Key": {"itemId": {"S": "i004"}, "userId": {"S": "alice"}}}}]})
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": t, "Item": _item(42, "alice", 50)}},
        {"Update": {"TableName": t, "Key": {"itemId": {"S": "i005"}, "userId": {"S": "alice"}},
                    "UpdateExpression": "SET price = :p", "ExpressionAttributeValues": {":p": {"N": "6"}}}}])
    _queries(out, client, t)
    _call(out, client.execute_statement,
          Statement=f'UPDATE "{t}" SET lastChecked = ? WHERE itemId = \'i006\' AND userId = \'alice\'',
          Parameters=[{"N": "7"}])
    _queries(out, client, t)
    return out


@pytest.fixture
def oracle(monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """A client of moto as installed, in-process (local cloud patches undone if applied)."""
    from moto import mock_aws
    from moto.core import serialize
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    for owner, name in ((Table, "query"), (Table, "all_items"), (DynamoHandler, "call_action")):
        method = getattr(owner, name)
        if getattr(method, "_localcloud", False):
            monkeypatch.setattr(owner, name, method.__wrapped__)
    monkeypatch.setitem(serialize.SERVICE_SPECIFIC_SERIALIZERS, "dynamodb", {})
    from moto.dynamodb import responses
    from moto.dynamodb.models.dynamo_type import DynamoType

    from localcloud.ext.speed import dynamodb_hot_paths as hot

    monkeypatch.setattr(DynamoType, "cast_value", property(hot._ORIGINAL_CAST))
    monkeypatch.setattr(DynamoType, "size", hot._ORIGINAL_SIZE)
    from moto.dynamodb.models.dynamo_type import Item

    monkeypatch.setattr(Item, "size", hot._ORIGINAL_ITEM_SIZE)
    import copy

    from moto.dynamodb.models import table as table_module

    monkeypatch.setattr(table_module, "copy", copy)
    monkeypatch.setattr(responses, "dynamo_to_dict", hot._ORIGINAL_TO_DICT)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield boto3.client("dynamodb", region_name="eu-central-1", aws_access_key_id="testing",
                           aws_secret_access_key="testing")


def test_same_answers_as_moto_as_installed(dynamodb_cloud: str, oracle: Client) -> None:
    name = f"qi-{uuid.uuid4().hex[:8]}"
    server = boto3.client("dynamodb", endpoint_url=dynamodb_cloud, region_name="eu-central-1",
                          aws_access_key_id="localcloud", aws_secret_access_key="localcloud")
    try:
        got = scenario(server, name)
    finally:
        server.delete_table(TableName=name)
    expected = scenario(oracle, name)
    assert len(got) == len(expected)
    for n, (a, b) in enumerate(zip(got, expected)):
        assert a == b, f"answer {n} differs"
    # the scenario is not vacuous: full pages, reversed order, errors all present
    first = expected[0]
    assert first["Count"] == 1 and first["LastEvaluatedKey"]
    errors = [e for e in expected if isinstance(e, tuple)]
    assert len(errors) == 3 * 4, errors  # the four bad queries, three times; the PartiQL update passed
    assert {e[2].split(":")[0] for e in errors} == {
        "Invalid index", "Query condition missed key schema element",
        "Consistent reads are not supported on global secondary indexes",
        "Invalid condition in KeyConditionExpression"}, errors


def test_query_reads_only_the_partition(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process: with the patch, moto's full ``all_items()`` is never called by a Query,
    and a write between two queries rebuilds the value map."""
    from moto import mock_aws
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    full_scans: list[str] = []
    original_all_items = getattr(Table.all_items, "__wrapped__", Table.all_items)

    def counting_all_items(self: Table) -> list[Any]:
        full_scans.append(self.name)
        return original_all_items(self)

    monkeypatch.setattr(Table, "query", qi._indexed_query(getattr(Table.query, "__wrapped__", Table.query)))
    monkeypatch.setattr(Table, "all_items", qi._narrowed_all_items(counting_all_items))
    monkeypatch.setattr(DynamoHandler, "call_action", qi._invalidating(
        getattr(DynamoHandler.call_action, "__wrapped__", DynamoHandler.call_action)))
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing")
        _create(client, "t")
        for n in range(30):
            client.put_item(TableName="t", Item=_item(n, "alice" if n < 5 else f"user{n}", n))

        def alice() -> list[str]:
            got = client.query(TableName="t", IndexName=GSI, KeyConditionExpression="userId = :u",
                               ExpressionAttributeValues={":u": {"S": "alice"}})
            return [i["itemId"]["S"] for i in got["Items"]]

        assert alice() == ["i000", "i001", "i002", "i003", "i004"]
        before = qi.generation()
        assert alice() == ["i000", "i001", "i002", "i003", "i004"]
        assert qi.generation() == before  # reads do not invalidate
        client.update_item(TableName="t", Key={"itemId": {"S": "i007"}, "userId": {"S": "user7"}},
                           UpdateExpression="SET lastChecked = :c", ExpressionAttributeValues={":c": {"N": "3"}})
        assert qi.generation() != before
        client.put_item(TableName="t", Item=_item(50, "alice", -1))
        assert alice() == ["i050", "i000", "i001", "i002", "i003", "i004"]
        table_query = client.query(TableName="t", KeyConditionExpression="itemId = :i",
                                   ExpressionAttributeValues={":i": {"S": "i050"}})
        assert [i["userId"]["S"] for i in table_query["Items"]] == ["alice"]
        assert full_scans == []  # no Query walked the whole table
        client.scan(TableName="t")
        assert full_scans == ["t"]  # other readers still see moto's all_items()
