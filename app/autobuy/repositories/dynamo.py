"""DynamoDB repository for tracked items, their price history and the user mirror.

Table and attribute names come from the shared definition
(``app/autobuy/schema/dynamodb_tables.yml``). The item limit is enforced on the user's
``autobuy_users`` row: the item's id joins the ``itemIds`` set only while the set
is smaller than the limit (one conditional write), so concurrent creates can never
exceed it.
"""
from __future__ import annotations

import base64
import binascii
import json
import zlib
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from autobuy.errors import BadInput, Conflict, LimitReached
from autobuy.models import Item, Page, PricePoint, User
from autobuy.repositories.base import CheckQueue, ItemRepository

DUE_SHARDS = 16
_ser = TypeSerializer()
_de = TypeDeserializer()

# Item field (snake_case, models.Item) -> DynamoDB attribute (camelCase, shared with the engine)
ITEM_ATTRS = {
    "item_id": "itemId", "user_id": "userId", "url": "url", "title": "title",
    "target_price": "targetPrice", "currency": "currency", "auto_buy": "autoBuy",
    "status": "status", "created_at": "createdAt", "updated_at": "updatedAt",
    "last_checked": "lastChecked", "next_check_at": "nextCheckAt",
    "current_price": "currentPrice", "availability": "availability",
    "check_requested_at": "checkRequestedAt",
    "alert_drop_percent": "alertDropPercent", "alert_back_in_stock": "alertBackInStock",
}


def due_shard(item_id: str) -> str:
    """The item's bucket "0".."15" of the dueShard-nextCheckAt-index."""
    return str(zlib.crc32(item_id.encode()) % DUE_SHARDS)


def _is_conditional_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, expected: dict[str, str]) -> dict[str, Any] | None:
    """Decode a cursor and check it belongs to the same query (e.g. the same user)."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadInput("cursor is not valid") from None
    if not isinstance(key, dict) or not all(isinstance(v, dict) and len(v) == 1 for v in key.values()):
        raise BadInput("cursor is not valid")
    for attr, value in expected.items():
        if key.get(attr) != {"S": value}:
            raise BadInput("cursor is not valid")
    return key


def item_from_dynamo(raw: dict[str, Any]) -> Item:
    data = {k: _de.deserialize(v) for k, v in raw.items()}
    num = lambda name: int(data[name]) if data.get(name) is not None else 0  # noqa: E731
    return Item(
        item_id=data["itemId"], user_id=data["userId"], url=data["url"], title=data.get("title"),
        target_price=Decimal(data["targetPrice"]), currency=data["currency"],
        auto_buy=bool(data.get("autoBuy", False)), status=data.get("status", "active"),
        created_at=num("createdAt"), updated_at=num("updatedAt"), last_checked=num("lastChecked"),
        next_check_at=num("nextCheckAt"),
        current_price=Decimal(data["currentPrice"]) if data.get("currentPrice") is not None else None,
        availability=data.get("availability"),
        check_requested_at=int(data["checkRequestedAt"]) if data.get("checkRequestedAt") else None,
        alert_drop_percent=(Decimal(data["alertDropPercent"])
                            if data.get("alertDropPercent") is not None else None),
        alert_back_in_stock=bool(data.get("alertBackInStock", False)),
    )


def item_to_dynamo(item: Item) -> dict[str, Any]:
    values = {attr: getattr(item, field) for field, attr in ITEM_ATTRS.items()}
    values["dueShard"] = due_shard(item.item_id)
    return {k: _ser.serialize(v) for k, v in values.items() if v is not None}


class DynamoItemRepository(ItemRepository):
    def __init__(self, client: Any, table_prefix: str = "") -> None:
        self._db = client
        self._items = table_prefix + "autobuy_items"
        self._users = table_prefix + "autobuy_users"
        self._history = table_prefix + "autobuy_price_history"

    # -- item limit -----------------------------------------------------------------
    # The user's row holds the set of item ids that occupy a slot (itemIds, a string
    # set). Adding an id is conditional on the set being smaller than the limit, in one
    # UpdateItem (atomic in DynamoDB). Both directions are idempotent, so an SDK retry
    # of a call that did succeed (a timed-out response) cannot count an item twice.
    def _reserve_slot(self, user_id: str, item_id: str, item_limit: int) -> None:
        try:
            self._db.update_item(
                TableName=self._users, Key={"userId": {"S": user_id}},
                UpdateExpression="ADD itemIds :id",
                ConditionExpression=("attribute_not_exists(itemIds) OR size(itemIds) < :limit"
                                     " OR contains(itemIds, :one)"),
                ExpressionAttributeValues={":id": {"SS": [item_id]}, ":one": {"S": item_id},
                                           ":limit": {"N": str(item_limit)}})
        except ClientError as exc:
            if _is_conditional_failure(exc):
                raise LimitReached(f"your tier allows {item_limit} tracked items") from None
            raise

    def _release_slot(self, user_id: str, item_id: str) -> None:
        self._db.update_item(TableName=self._users, Key={"userId": {"S": user_id}},
                             UpdateExpression="DELETE itemIds :id",
                             ExpressionAttributeValues={":id": {"SS": [item_id]}})

    def create(self, item: Item, *, item_limit: int) -> None:
        self._reserve_slot(item.user_id, item.item_id, item_limit)
        try:
            self._db.put_item(TableName=self._items, Item=item_to_dynamo(item),
                              ConditionExpression="attribute_not_exists(itemId)")
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                self._release_slot(item.user_id, item.item_id)
                raise
            if self.get(item.user_id, item.item_id) == item:
                return  # a retried put whose first attempt had succeeded
            # the id (and its slot) belongs to an existing item: keep both
            raise Conflict("an item with this id exists") from None
        except BaseException:
            self._release_slot(item.user_id, item.item_id)
            raise

    def count(self, user_id: str) -> int:
        got = self._db.get_item(TableName=self._users, Key={"userId": {"S": user_id}},
                                ProjectionExpression="itemIds", ConsistentRead=True)
        return len(got.get("Item", {}).get("itemIds", {}).get("SS", []))

    # -- items ----------------------------------------------------------------------
    def _key(self, user_id: str, item_id: str) -> dict[str, Any]:
        return {"itemId": {"S": item_id}, "userId": {"S": user_id}}

    def get(self, user_id: str, item_id: str) -> Item | None:
        got = self._db.get_item(TableName=self._items, Key=self._key(user_id, item_id),
                                ConsistentRead=True)
        return item_from_dynamo(got["Item"]) if "Item" in got else None

    def list(self, user_id: str, *, limit: int, cursor: str | None) -> Page:
        params: dict[str, Any] = {
            "TableName": self._items, "IndexName": "userId-lastChecked-index",
            "KeyConditionExpression": "userId = :u",
            "ExpressionAttributeValues": {":u": {"S": user_id}},
            "ScanIndexForward": False, "Limit": limit,
        }
        start = decode_cursor(cursor, {"userId": user_id})
        if start:
            params["ExclusiveStartKey"] = start
        got = self._db.query(**params)
        return Page([item_from_dynamo(raw) for raw in got.get("Items", [])],
                    encode_cursor(got.get("LastEvaluatedKey")))

    def update(self, user_id: str, item_id: str, changes: dict) -> Item | None:
        """SET the named API attributes (None = REMOVE); the engine's own attributes
        (alertArmed, crossingSeq, leaseUntil, failStreak, ...) are never written here."""
        names, values, sets, removes = {}, {}, [], []
        for i, (field, value) in enumerate(changes.items()):
            names[f"#f{i}"] = ITEM_ATTRS[field]
            if value is None:
                removes.append(f"#f{i}")
                continue
            values[f":v{i}"] = _ser.serialize(value)
            sets.append(f"#f{i} = :v{i}")
        expression = " ".join(part for part in (
            "SET " + ", ".join(sets) if sets else "",
            "REMOVE " + ", ".join(removes) if removes else "") if part)
        try:
            got = self._db.update_item(
                TableName=self._items, Key=self._key(user_id, item_id),
                UpdateExpression=expression, ConditionExpression="attribute_exists(itemId)",
                ExpressionAttributeNames=names, ReturnValues="ALL_NEW",
                **({"ExpressionAttributeValues": values} if values else {}))
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return None
            raise
        return item_from_dynamo(got["Attributes"])

    def delete(self, user_id: str, item_id: str) -> bool:
        try:
            self._db.delete_item(TableName=self._items, Key=self._key(user_id, item_id),
                                 ConditionExpression="attribute_exists(itemId)")
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return False
            raise
        self._release_slot(user_id, item_id)
        return True

    def request_check(self, user_id: str, item_id: str, now: int) -> bool:
        return self.update(user_id, item_id, {"next_check_at": now, "check_requested_at": now}) is not None

    def history(self, item_id: str, *, limit: int, cursor: str | None) -> Page:
        params: dict[str, Any] = {
            "TableName": self._history, "KeyConditionExpression": "itemId = :i",
            "ExpressionAttributeValues": {":i": {"S": item_id}},
            "ScanIndexForward": False, "Limit": limit,
        }
        start = decode_cursor(cursor, {"itemId": item_id})
        if start:
            params["ExclusiveStartKey"] = start
        got = self._db.query(**params)
        points = []
        for raw in got.get("Items", []):
            data = {k: _de.deserialize(v) for k, v in raw.items()}
            price = data.get("price")
            points.append(PricePoint(checked_at=int(data["checkedAt"]),
                                     price=Decimal(price) if price is not None else None,
                                     currency=data.get("currency"),
                                     availability=data.get("availability"),
                                     source=data.get("source")))
        return Page(points, encode_cursor(got.get("LastEvaluatedKey")))

    # -- users mirror / readiness -----------------------------------------------------
    def sync_user(self, user: User) -> None:
        self._db.update_item(
            TableName=self._users, Key={"userId": {"S": user.id}},
            UpdateExpression="SET email = :e, subscriptionTier = :t",
            ExpressionAttributeValues={":e": {"S": user.email}, ":t": {"S": user.tier}})

    def ping(self) -> None:
        self._db.describe_table(TableName=self._items)


class SqsCheckQueue(CheckQueue):
    """Sends ``{"itemId", "userId", "reason": "manual"}`` to the checks queue (issue 6)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def enqueue(self, user_id: str, item_id: str) -> None:
        self._sqs.send_message(QueueUrl=self._url, MessageBody=json.dumps(
            {"itemId": item_id, "userId": user_id, "reason": "manual"}))


class NoCheckQueue(CheckQueue):
    """No queue configured: the engine picks the item up through its nextCheckAt."""

    def enqueue(self, user_id: str, item_id: str) -> None:
        return None
