"""DynamoDB gap fill: items returned by reads are freed, not kept by moto's model registry."""
from __future__ import annotations

import gc
import weakref

import boto3
import pytest


def test_read_copies_are_freed(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws
    from moto.dynamodb.models.dynamo_type import Item

    from localcloud.ext.speed import dynamodb_item_tracking

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    created: list[weakref.ref] = []
    original_init = Item.__init__

    def remembering_init(self: Item, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        original_init(self, *args, **kwargs)
        created.append(weakref.ref(self))

    def live_items() -> int:
        gc.collect()
        return sum(1 for ref in created if ref() is not None)

    monkeypatch.setattr(Item, "__init__", remembering_init)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing")
        client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        for n in range(5):
            client.put_item(TableName="t", Item={"pk": {"S": f"k{n}"}, "v": {"N": str(n)}})

        def read() -> None:
            client.scan(TableName="t")
            client.query(TableName="t", KeyConditionExpression="pk = :k",
                         ExpressionAttributeValues={":k": {"S": "k1"}}, ProjectionExpression="v")

        own_new = Item.__dict__.get("__new__")  # restored below: other tests see moto as it was
        if own_new is not None:
            del Item.__new__
        baseline = len(Item.instances_tracked)  # type: ignore[attr-defined]
        for _ in range(3):
            read()
        assert len(Item.instances_tracked) > baseline  # type: ignore[attr-defined] # moto as installed keeps them
        dynamodb_item_tracking.apply()
        dynamodb_item_tracking.apply()  # idempotent
        assert Item.instances_tracked == []  # type: ignore[attr-defined]
        before = live_items()
        for _ in range(10):
            read()
        assert live_items() == before  # every copy made by the reads is gone again
        assert len(client.scan(TableName="t")["Items"]) == 5  # the table's own items are intact
        if own_new is None:
            del Item.__new__
        else:
            Item.__new__ = own_new  # type: ignore[method-assign]
