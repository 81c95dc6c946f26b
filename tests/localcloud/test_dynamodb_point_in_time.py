"""DynamoDB point-in-time restore gives the table as it was at the restore time.

The oracle is what the test itself wrote before and after the restore time (DynamoDB's
documented behaviour: the new table holds the source's items as of RestoreDateTime).
moto alone copies the items as they are at the restore call.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import boto3
import pytest
from botocore.exceptions import ClientError


def _client():
    return boto3.session.Session().client("dynamodb")


def _create(client, name: str, pitr: bool = True) -> None:
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "itemId", "AttributeType": "S"},
                              {"AttributeName": "userId", "AttributeType": "S"},
                              {"AttributeName": "price", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "itemId", "KeyType": "HASH"},
                   {"AttributeName": "userId", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "userId-price-index",
            "KeySchema": [{"AttributeName": "userId", "KeyType": "HASH"},
                          {"AttributeName": "price", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}])
    if pitr:
        client.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})


def _item(item_id: str, user: str, price: int) -> dict:
    return {"itemId": {"S": item_id}, "userId": {"S": user}, "price": {"N": str(price)}}


def _contents(client, name: str) -> dict[tuple[str, str], int]:
    items = client.scan(TableName=name)["Items"]
    return {(i["itemId"]["S"], i["userId"]["S"]): int(i["price"]["N"]) for i in items}


def _after(moment: float) -> None:
    """Return once the clock has moved past ``moment`` (so later writes are later)."""
    while time.time() <= moment:
        time.sleep(0.001)


@pytest.fixture
def names(dynamodb_cloud: str):
    client = _client()
    created: list[str] = []
    yield lambda: created.append(f"pitr-{uuid.uuid4().hex[:8]}") or created[-1]
    for name in created:
        try:
            client.delete_table(TableName=name)
        except ClientError:
            pass


def test_a_restore_gives_the_items_as_they_were_at_the_restore_time(names):
    client = _client()
    source, restored, latest = names(), names(), names()
    _create(client, source)
    client.put_item(TableName=source, Item=_item("a", "u1", 10))
    client.put_item(TableName=source, Item=_item("b", "u1", 20))
    client.update_item(TableName=source, Key={"itemId": {"S": "a"}, "userId": {"S": "u1"}},
                       UpdateExpression="SET price = :p", ExpressionAttributeValues={":p": {"N": "11"}})
    moment = time.time()
    _after(moment)
    # After the restore time: every kind of write.
    client.delete_item(TableName=source, Key={"itemId": {"S": "a"}, "userId": {"S": "u1"}})
    client.update_item(TableName=source, Key={"itemId": {"S": "b"}, "userId": {"S": "u1"}},
                       UpdateExpression="SET price = :p", ExpressionAttributeValues={":p": {"N": "99"}})
    client.put_item(TableName=source, Item=_item("c", "u2", 30))
    client.batch_write_item(RequestItems={source: [
        {"PutRequest": {"Item": _item("e", "u2", 50)}},
        {"DeleteRequest": {"Key": {"itemId": {"S": "b"}, "userId": {"S": "u1"}}}}]})
    client.transact_write_items(TransactItems=[{"Put": {"TableName": source, "Item": _item("d", "u1", 40)}}])
    now_state = {("c", "u2"): 30, ("d", "u1"): 40, ("e", "u2"): 50}
    assert _contents(client, source) == now_state

    answer = client.restore_table_to_point_in_time(
        SourceTableName=source, TargetTableName=restored,
        RestoreDateTime=datetime.fromtimestamp(moment, tz=timezone.utc))
    assert answer["TableDescription"]["RestoreSummary"]["RestoreInProgress"] is False
    assert _contents(client, restored) == {("a", "u1"): 11, ("b", "u1"): 20}
    # The restored table's index answers for the restored items.
    by_user = client.query(TableName=restored, IndexName="userId-price-index",
                           KeyConditionExpression="userId = :u",
                           ExpressionAttributeValues={":u": {"S": "u1"}})["Items"]
    assert [i["itemId"]["S"] for i in by_user] == ["a", "b"]
    # The source is untouched, and the latest restorable time is its present state.
    assert _contents(client, source) == now_state
    client.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=latest,
                                          UseLatestRestorableTime=True)
    assert _contents(client, latest) == now_state


def test_a_table_without_point_in_time_recovery_cannot_be_restored(names):
    client = _client()
    source = names()
    _create(client, source, pitr=False)
    with pytest.raises(ClientError) as caught:
        client.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=names(),
                                              UseLatestRestorableTime=True)
    assert caught.value.response["Error"]["Code"] == "PointInTimeRecoveryUnavailableException"


def test_a_restore_time_outside_the_restorable_period_is_refused(names):
    client = _client()
    source = names()
    before = time.time() - 60
    _create(client, source)
    for when in (before, time.time() + 3600):
        with pytest.raises(ClientError) as caught:
            client.restore_table_to_point_in_time(
                SourceTableName=source, TargetTableName=names(),
                RestoreDateTime=datetime.fromtimestamp(when, tz=timezone.utc))
        assert caught.value.response["Error"]["Code"] == "InvalidRestoreTimeException"
