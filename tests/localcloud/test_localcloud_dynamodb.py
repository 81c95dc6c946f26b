"""DynamoDB gap fill: TableId in table descriptions."""
from __future__ import annotations

import re
import uuid

import boto3

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _create(client, name: str) -> dict:
    return client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "userId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "userId", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]


def test_table_id_is_a_stable_uuid_per_table(dynamodb_cloud: str) -> None:
    client = boto3.client("dynamodb")
    suffix = uuid.uuid4().hex[:8]
    created = _create(client, f"tid-a-{suffix}")
    other = _create(client, f"tid-b-{suffix}")

    described = client.describe_table(TableName=f"tid-a-{suffix}")["Table"]

    assert UUID.match(created["TableId"])
    assert described["TableId"] == created["TableId"]
    assert other["TableId"] != created["TableId"]
    deleted = client.delete_table(TableName=f"tid-a-{suffix}")["TableDescription"]
    assert deleted["TableId"] == created["TableId"]
