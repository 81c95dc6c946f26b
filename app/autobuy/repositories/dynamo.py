"""DynamoDB repository for tracked items, their price history and the user mirror.

Tables, attribute names, the due shard and the encoding are the contract's
(``autobuy.contract``, over ``app/autobuy/schema/dynamodb_tables.yml``). The item limit
is enforced on the user's ``autobuy_users`` row: the item's id joins the ``itemIds`` set
only while the set is smaller than the limit (one conditional write), so concurrent
creates can never exceed it.
"""
from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from autobuy.contract import (
    DynamoTables,
    ITEM_FIELDS,
    ITEMS,
    ITEMS_BY_USER_INDEX,
    USERS,
    HistoryAttr,
    ItemAttr,
    UserAttr,
    conditional_write,
    decode,
    due_shard,
    encode,
    is_condition_failure,
    values,
)
from autobuy.errors import BadInput, Conflict, LimitReached
from autobuy.models import Item, Page, PricePoint, User
from autobuy.repositories.base import CheckQueue, ItemRepository

# Short names for the contract's attribute names, which fill the expressions below.
I, U, H = ItemAttr, UserAttr, HistoryAttr  # noqa: E741


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
    data = decode(raw)
    num = lambda name: int(data[name]) if data.get(name) is not None else 0  # noqa: E731
    dec = lambda name: Decimal(data[name]) if data.get(name) is not None else None  # noqa: E731
    return Item(
        item_id=data[I.ITEM_ID], user_id=data[I.USER_ID], url=data[I.URL],
        title=data.get(I.TITLE), target_price=Decimal(data[I.TARGET_PRICE]),
        currency=data[I.CURRENCY], auto_buy=bool(data.get(I.AUTO_BUY, False)),
        status=data.get(I.STATUS, "active"), created_at=num(I.CREATED_AT),
        updated_at=num(I.UPDATED_AT), last_checked=num(I.LAST_CHECKED),
        next_check_at=num(I.NEXT_CHECK_AT), current_price=dec(I.CURRENT_PRICE),
        availability=data.get(I.AVAILABILITY),
        check_requested_at=(int(data[I.CHECK_REQUESTED_AT])
                            if data.get(I.CHECK_REQUESTED_AT) else None),
        alert_drop_percent=dec(I.ALERT_DROP_PERCENT),
        alert_back_in_stock=bool(data.get(I.ALERT_BACK_IN_STOCK, False)),
        last_outcome=data.get(I.LAST_OUTCOME), last_reason=data.get(I.LAST_REASON),
        last_attempt_at=int(data[I.LAST_ATTEMPT_AT]) if data.get(I.LAST_ATTEMPT_AT) else None,
        first_price=dec(I.FIRST_PRICE),
        first_price_at=int(data[I.FIRST_PRICE_AT]) if data.get(I.FIRST_PRICE_AT) else None,
    )


def item_to_dynamo(item: Item) -> dict[str, Any]:
    row = {attr: getattr(item, field) for field, attr in ITEM_FIELDS.items()}
    row[I.DUE_SHARD] = due_shard(item.item_id)
    return encode(row)


class DynamoItemRepository(DynamoTables, ItemRepository):
    # -- item limit -----------------------------------------------------------------
    # The user's row holds the set of item ids that occupy a slot (itemIds, a string
    # set). Adding an id is conditional on the set being smaller than the limit, in one
    # UpdateItem (atomic in DynamoDB). Both directions are idempotent, so an SDK retry
    # of a call that did succeed (a timed-out response) cannot count an item twice.
    def _reserve_slot(self, user_id: str, item_id: str, item_limit: int) -> None:
        try:
            self._db.update_item(
                TableName=self._users, Key=USERS.key(user_id),
                UpdateExpression=f"ADD {U.ITEM_IDS} :id",
                ConditionExpression=(f"attribute_not_exists({U.ITEM_IDS}) OR "
                                     f"size({U.ITEM_IDS}) < :limit OR "
                                     f"contains({U.ITEM_IDS}, :one)"),
                ExpressionAttributeValues={":id": {"SS": [item_id]}, ":one": {"S": item_id},
                                           ":limit": {"N": str(item_limit)}})
        except ClientError as exc:
            if is_condition_failure(exc):
                raise LimitReached(f"your tier allows {item_limit} tracked items") from None
            raise

    def _release_slot(self, user_id: str, item_id: str) -> None:
        self._db.update_item(TableName=self._users, Key=USERS.key(user_id),
                             UpdateExpression=f"DELETE {U.ITEM_IDS} :id",
                             ExpressionAttributeValues={":id": {"SS": [item_id]}})

    def create(self, item: Item, *, item_limit: int) -> None:
        self._reserve_slot(item.user_id, item.item_id, item_limit)
        try:
            self._db.put_item(TableName=self._items, Item=item_to_dynamo(item),
                              ConditionExpression=f"attribute_not_exists({I.ITEM_ID})")
        except ClientError as exc:
            if not is_condition_failure(exc):
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
        got = self._db.get_item(TableName=self._users, Key=USERS.key(user_id),
                                ProjectionExpression=U.ITEM_IDS, ConsistentRead=True)
        return len(got.get("Item", {}).get(U.ITEM_IDS, {}).get("SS", []))

    # -- items ----------------------------------------------------------------------
    def _key(self, user_id: str, item_id: str) -> dict[str, Any]:
        return ITEMS.key(item_id, user_id)

    def _query_page(self, params: dict[str, Any], cursor: str | None,
                    expected: dict[str, str]) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a query: its rows and the next page's cursor (None on the last page);
        ``cursor`` must belong to the same query (``expected`` key values)."""
        start = decode_cursor(cursor, expected)
        if start:
            params = {**params, "ExclusiveStartKey": start}
        got = self._db.query(**params)
        return got.get("Items", []), encode_cursor(got.get("LastEvaluatedKey"))

    def get(self, user_id: str, item_id: str) -> Item | None:
        got = self._db.get_item(TableName=self._items, Key=self._key(user_id, item_id),
                                ConsistentRead=True)
        return item_from_dynamo(got["Item"]) if "Item" in got else None

    def list(self, user_id: str, *, limit: int, cursor: str | None) -> Page:
        params: dict[str, Any] = {
            "TableName": self._items, "IndexName": ITEMS_BY_USER_INDEX.name,
            "KeyConditionExpression": f"{I.USER_ID} = :u",
            "ExpressionAttributeValues": values(u=user_id),
            "ScanIndexForward": False, "Limit": limit,
        }
        rows, after = self._query_page(params, cursor, {I.USER_ID: user_id})
        return Page([item_from_dynamo(raw) for raw in rows], after)

    def update(self, user_id: str, item_id: str, changes: dict) -> Item | None:
        """SET the named API attributes (None = REMOVE); the engine's own attributes
        (alertArmed, crossingSeq, leaseUntil, failStreak, ...) are never written here."""
        names: dict[str, str] = {}
        new_values: dict[str, Any] = {}
        sets: list[str] = []
        removes: list[str] = []
        for i, (field, value) in enumerate(changes.items()):
            names[f"#f{i}"] = ITEM_FIELDS[field]
            if value is None:
                removes.append(f"#f{i}")
                continue
            new_values.update(values(**{f"v{i}": value}))
            sets.append(f"#f{i} = :v{i}")
        expression = " ".join(part for part in (
            "SET " + ", ".join(sets) if sets else "",
            "REMOVE " + ", ".join(removes) if removes else "") if part)
        try:
            got = self._db.update_item(
                TableName=self._items, Key=self._key(user_id, item_id),
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists({I.ITEM_ID})",
                ExpressionAttributeNames=names, ReturnValues="ALL_NEW",
                **({"ExpressionAttributeValues": new_values} if new_values else {}))
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return item_from_dynamo(got["Attributes"])

    def delete(self, user_id: str, item_id: str) -> bool:
        if not conditional_write(self._db.delete_item, TableName=self._items,
                                 Key=self._key(user_id, item_id),
                                 ConditionExpression=f"attribute_exists({I.ITEM_ID})"):
            return False
        self._release_slot(user_id, item_id)
        return True

    def request_check(self, user_id: str, item_id: str, now: int) -> bool:
        return self.update(user_id, item_id, {"next_check_at": now, "check_requested_at": now}) is not None

    def history(self, item_id: str, *, limit: int, cursor: str | None) -> Page:
        params: dict[str, Any] = {
            "TableName": self._history, "KeyConditionExpression": f"{H.ITEM_ID} = :i",
            "ExpressionAttributeValues": values(i=item_id),
            "ScanIndexForward": False, "Limit": limit,
        }
        rows, after = self._query_page(params, cursor, {H.ITEM_ID: item_id})
        points = []
        for raw in rows:
            data = decode(raw)
            price = data.get(H.PRICE)
            points.append(PricePoint(checked_at=int(data[H.CHECKED_AT]),
                                     price=Decimal(price) if price is not None else None,
                                     currency=data.get(H.CURRENCY),
                                     availability=data.get(H.AVAILABILITY),
                                     source=data.get(H.SOURCE)))
        return Page(points, after)

    # -- users mirror / readiness -----------------------------------------------------
    def sync_user(self, user: User) -> None:
        self._db.update_item(
            TableName=self._users, Key=USERS.key(user.id),
            UpdateExpression=f"SET {U.EMAIL} = :e, {U.SUBSCRIPTION_TIER} = :t",
            ExpressionAttributeValues=values(e=user.email, t=user.tier))

    def ping(self) -> None:
        self._db.describe_table(TableName=self._items)


class NoCheckQueue(CheckQueue):
    """No queue configured: the engine picks the item up through its nextCheckAt."""

    def enqueue(self, user_id: str, item_id: str) -> None:
        return None
