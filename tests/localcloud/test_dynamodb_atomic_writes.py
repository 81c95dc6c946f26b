"""DynamoDB gap fill: conditional writes are atomic under concurrent requests.

moto checks a ConditionExpression and then writes, with nothing in between to stop a
second request thread; two requests can both pass the check. These tests race many
threads at a ceiling (a counter, and a string set like the API's item limit) and
require that the ceiling is never exceeded and exactly reached.
"""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

THREADS = 16
ATTEMPTS = 6
CEILING = 10


def _client():
    return boto3.session.Session().client(
        "dynamodb", config=Config(max_pool_connections=THREADS, retries={"max_attempts": 1}))


@pytest.fixture
def table(dynamodb_cloud: str):
    client = _client()
    name = f"atomic-{uuid.uuid4().hex[:8]}"
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    yield name
    client.delete_table(TableName=name)


def _race(write: Callable[[object, int, int], None], make_client: Callable[[], object] = _client) -> int:
    """Run ``write(client, thread, attempt)`` from THREADS threads at once; count successes."""
    start = threading.Barrier(THREADS)
    wins: list[int] = []
    errors: list[BaseException] = []

    clients = [make_client() for _ in range(THREADS)]

    def worker(n: int) -> None:
        client = clients[n]
        start.wait()
        for attempt in range(ATTEMPTS):
            try:
                write(client, n, attempt)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    errors.append(exc)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            else:
                wins.append(n)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors[:3]
    return len(wins)


def test_concurrent_conditional_increments_never_pass_the_ceiling(table: str) -> None:
    def increment(client, n: int, attempt: int) -> None:
        client.update_item(
            TableName=table, Key={"id": {"S": "counter"}},
            UpdateExpression="SET n = if_not_exists(n, :zero) + :one",
            ConditionExpression="attribute_not_exists(n) OR n < :ceiling",
            ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"},
                                       ":ceiling": {"N": str(CEILING)}})

    wins = _race(increment)
    item = _client().get_item(TableName=table, Key={"id": {"S": "counter"}},
                              ConsistentRead=True)["Item"]
    assert int(item["n"]["N"]) == CEILING
    assert wins == CEILING


def test_concurrent_set_adds_never_pass_the_size_limit(table: str) -> None:
    """The API's item-limit write: ADD an id while size(set) < limit."""
    def add(client, n: int, attempt: int) -> None:
        member = f"item-{n}-{attempt}"
        client.update_item(
            TableName=table, Key={"id": {"S": "user"}}, UpdateExpression="ADD ids :id",
            ConditionExpression="attribute_not_exists(ids) OR size(ids) < :limit",
            ExpressionAttributeValues={":id": {"SS": [member]}, ":limit": {"N": str(CEILING)}})

    wins = _race(add)
    item = _client().get_item(TableName=table, Key={"id": {"S": "user"}},
                              ConsistentRead=True)["Item"]
    assert len(item["ids"]["SS"]) == CEILING
    assert wins == CEILING


def test_concurrent_conditional_puts_create_an_item_once(table: str) -> None:
    def put(client, n: int, attempt: int) -> None:
        client.put_item(TableName=table, Item={"id": {"S": f"once-{attempt}"},
                                               "by": {"S": str(n)}},
                        ConditionExpression="attribute_not_exists(id)")

    assert _race(put) == ATTEMPTS  # one winner per key


def test_transactions_and_batches_still_work(table: str) -> None:
    client = _client()
    client.batch_write_item(RequestItems={table: [
        {"PutRequest": {"Item": {"id": {"S": f"b{i}"}}}} for i in range(3)]})
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"id": {"S": "t1"}},
                 "ConditionExpression": "attribute_not_exists(id)"}},
        {"Delete": {"TableName": table, "Key": {"id": {"S": "b0"}}}}])
    client.delete_item(TableName=table, Key={"id": {"S": "b1"}})
    ids = {row["id"]["S"] for row in client.scan(TableName=table)["Items"]}
    assert ids == {"b2", "t1"}


def test_apply_wraps_the_mutating_handlers_once() -> None:
    from moto.dynamodb.responses import DynamoHandler

    from localcloud.ext.fidelity import dynamodb_atomic_writes

    dynamodb_atomic_writes.apply()
    wrapped = {name: getattr(DynamoHandler, name) for name in dynamodb_atomic_writes.MUTATING}
    dynamodb_atomic_writes.apply()
    for name, method in wrapped.items():
        assert getattr(method, "_localcloud", False), name
        assert getattr(DynamoHandler, name) is method  # not wrapped twice
    assert not getattr(DynamoHandler.get_item, "_localcloud", False)


def test_the_race_is_real_without_the_lock_and_gone_with_it(monkeypatch) -> None:
    """In-process moto with the check-to-write window widened (a sleep after the
    condition is evaluated): moto alone lets the counter pass the ceiling; the wrapped
    handlers do not. Shows the localcloud tests above are able to fail."""
    import time

    import moto.dynamodb.models as models
    from moto import mock_aws
    from moto.dynamodb.responses import DynamoHandler

    from localcloud.ext.fidelity import dynamodb_atomic_writes

    real_parser = models.create_condition_expression_parser

    class SlowCondition:
        def __init__(self, op) -> None:
            self._op = op

        def expr(self, item) -> bool:
            passed = self._op.expr(item)
            time.sleep(0.02)  # let the other threads reach the same check
            return passed

    def slow_parser(*args, **kwargs):
        parser = real_parser(*args, **kwargs)
        parse = parser.parse
        parser.parse = lambda: SlowCondition(parse())
        return parser

    monkeypatch.setattr(models, "create_condition_expression_parser", slow_parser)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    aws = {"region_name": "eu-central-1", "aws_access_key_id": "testing",
           "aws_secret_access_key": "testing",
           "config": Config(max_pool_connections=THREADS, retries={"max_attempts": 1})}

    def final_count(table: str) -> int:
        client = boto3.client("dynamodb", **aws)
        client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])

        def increment(own, n: int, attempt: int) -> None:
            own.update_item(
                TableName=table, Key={"id": {"S": "counter"}},
                UpdateExpression="SET n = if_not_exists(n, :zero) + :one",
                ConditionExpression="attribute_not_exists(n) OR n < :ceiling",
                ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"},
                                           ":ceiling": {"N": str(CEILING)}})

        _race(increment, lambda: boto3.client("dynamodb", **aws))
        return int(client.get_item(TableName=table, Key={"id": {"S": "counter"}})["Item"]["n"]["N"])

    dynamodb_atomic_writes.apply()
    wrapped = {name: getattr(DynamoHandler, name) for name in dynamodb_atomic_writes.MUTATING}
    with mock_aws():
        try:
            for name, method in wrapped.items():  # moto as installed, for the baseline
                setattr(DynamoHandler, name, method.__wrapped__)
            assert final_count("baseline") > CEILING
        finally:
            for name, method in wrapped.items():
                setattr(DynamoHandler, name, method)
        assert final_count("locked") == CEILING
