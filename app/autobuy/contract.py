"""The contract between the API and the price engine: what both read and write.

Both sides store items, price history, alerts and orders in DynamoDB and pass checks
through SQS; this module is the one place that says how:

* the tables: names, keys, indexes and TTL attribute come from the shared definition
  ``autobuy/schema/dynamodb_tables.yml`` (the playbooks create the same tables from it);
  a key, index or TTL attribute this module relies on that the definition does not have
  stops the import;
* the attribute names of each table's rows (``ItemAttr``, ``UserAttr``, ``HistoryAttr``,
  ``AlertAttr``, ``OrderAttr``) and which side writes which; the names of key, index key
  and TTL attributes are the tables' own (``ItemAttr.DUE_SHARD`` is
  ``ITEMS_DUE_INDEX.hash_key``), so a query by an index uses that index's keys;
* the due shard of an item (``DUE_SHARDS``, :func:`due_shard`);
* the value encoding (:func:`encode`, :func:`decode`, :func:`values`) and how a failed
  condition is recognised (:func:`is_condition_failure`, :func:`conditional_write`);
* the checks-queue message (:class:`CheckMessage`).
"""
from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Final, Literal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from autobuy.schema import load_tables

__all__ = [
    "ALERTS", "ALERTS_BY_ITEM_INDEX", "AlertAttr", "CheckMessage", "CheckReason", "DUE_SHARDS",
    "DynamoTables",
    "HistoryAttr", "Index", "ITEMS", "ITEMS_BY_USER_INDEX", "ITEMS_DUE_INDEX", "ITEM_FIELDS", "ItemAttr",
    "ORDERS", "ORDERS_BY_ITEM_INDEX", "OrderAttr", "PRICE_HISTORY", "Table", "USERS",
    "UserAttr", "conditional_write", "decode", "due_shard", "encode", "is_condition_failure",
    "spend_attribute", "values",
]


# -- tables (from the shared definition) ------------------------------------------------
@dataclass(frozen=True)
class Index:
    """One global secondary index of a table: its name (the ``IndexName``) and keys."""

    name: str
    hash_key: str
    range_key: str | None


@dataclass(frozen=True)
class Table:
    """One table of dynamodb_tables.yml: its name (before the prefix), keys and indexes."""

    name: str
    hash_key: str
    range_key: str | None
    indexes: frozenset[str]
    ttl_attribute: str | None
    index_keys: tuple[Index, ...] = ()

    def named(self, prefix: str = "", names: Mapping[str, str] | None = None) -> str:
        """The table's name: the one ``AUTOBUY_TABLE_NAMES`` gives it (e.g. a table
        restored from a backup, playbooks/restore.yml), else the deployment's
        ``AUTOBUY_TABLE_PREFIX`` + its name."""
        return (names or {}).get(self.name) or prefix + self.name

    def index(self, name: str) -> Index:
        """The index ``name`` as the definition declares it on this table, else an error."""
        found = next((index for index in self.index_keys if index.name == name), None)
        if found is None:
            raise LookupError(f"dynamodb_tables.yml: {self.name} has no index {name}")
        return found

    def key(self, hash_value: str, range_value: str | None = None) -> dict[str, Any]:
        """The encoded primary key of one row."""
        key = {self.hash_key: {"S": hash_value}}
        if self.range_key is not None:
            if range_value is None:
                raise ValueError(f"{self.name}: the key needs {self.range_key}")
            key[self.range_key] = {"S": range_value}
        return key


def _table(name: str, hash_key: str, range_key: str | None = None,
           ttl_attribute: str | None = None) -> Table:
    """The table ``name`` of the definition, which must be keyed (and expire) by the
    attributes the code relies on: a definition that differs stops the import."""
    spec = next((t for t in load_tables() if t["name"] == name), None)
    if spec is None:
        raise LookupError(f"dynamodb_tables.yml defines no table {name}")
    found = (spec["hash_key_name"], spec.get("range_key_name"))
    if found != (hash_key, range_key):
        raise LookupError(f"dynamodb_tables.yml: {name} is keyed by {found}, the code by "
                          f"{(hash_key, range_key)}")
    if spec.get("ttl_attribute") != ttl_attribute:
        raise LookupError(f"dynamodb_tables.yml: {name} expires by {spec.get('ttl_attribute')}, "
                          f"the code by {ttl_attribute}")
    indexes = tuple(Index(index["name"], index["hash_key_name"], index.get("range_key_name"))
                    for index in spec.get("indexes", []))
    return Table(name, hash_key, range_key, frozenset(index.name for index in indexes),
                 ttl_attribute, indexes)


#: The tables, each with the keys (and TTL attribute) the code relies on, and their
#: indexes; the attribute classes below take their key names from here.
USERS: Final = _table("autobuy_users", "userId")
ITEMS: Final = _table("autobuy_items", "itemId", "userId")
PRICE_HISTORY: Final = _table("autobuy_price_history", "itemId", "checkedAt",
                              ttl_attribute="expiresAt")
ALERTS: Final = _table("autobuy_alerts", "userId", "alertId")
ORDERS: Final = _table("autobuy_orders", "userId", "orderId")

#: A user's items by recency (userId, lastChecked).
ITEMS_BY_USER_INDEX: Final = ITEMS.index("userId-lastChecked-index")
#: Due items per shard, keys only (dueShard, nextCheckAt): the scheduler's query.
ITEMS_DUE_INDEX: Final = ITEMS.index("dueShard-nextCheckAt-index")
ALERTS_BY_ITEM_INDEX: Final = ALERTS.index("itemId-createdAt-index")
ORDERS_BY_ITEM_INDEX: Final = ORDERS.index("itemId-createdAt-index")


# -- attribute names --------------------------------------------------------------------
class ItemAttr:
    """``autobuy_items``: one row per tracked item (key itemId + userId).

    The API creates the row and SETs/REMOVEs only the attributes of :data:`ITEM_FIELDS`;
    the engine reads those and writes its own (alert state, lease, outcome).
    """

    ITEM_ID: Final = ITEMS.hash_key
    USER_ID: Final = ITEMS.range_key
    # written by the API (models.Item)
    URL: Final = "url"
    TITLE: Final = "title"
    TARGET_PRICE: Final = "targetPrice"
    CURRENCY: Final = "currency"
    AUTO_BUY: Final = "autoBuy"
    STATUS: Final = "status"
    CREATED_AT: Final = "createdAt"
    UPDATED_AT: Final = "updatedAt"
    CHECK_REQUESTED_AT: Final = "checkRequestedAt"
    ALERT_DROP_PERCENT: Final = "alertDropPercent"
    ALERT_BACK_IN_STOCK: Final = "alertBackInStock"
    DUE_SHARD: Final = ITEMS_DUE_INDEX.hash_key  # due_shard(itemId), written with the item
    # written by both (the API at creation and "check now", the engine after a check)
    NEXT_CHECK_AT: Final = ITEMS_DUE_INDEX.range_key
    LAST_CHECKED: Final = ITEMS_BY_USER_INDEX.range_key
    CURRENT_PRICE: Final = "currentPrice"
    AVAILABILITY: Final = "availability"
    # written by the engine only
    ALERT_ARMED: Final = "alertArmed"
    CROSSING_SEQ: Final = "crossingSeq"
    REFERENCE_PRICE: Final = "referencePrice"
    LAST_AVAILABILITY: Final = "lastAvailability"
    FAIL_STREAK: Final = "failStreak"
    LEASE_UNTIL: Final = "leaseUntil"
    LEASE_OWNER: Final = "leaseOwner"
    LAST_OUTCOME: Final = "lastOutcome"
    LAST_REASON: Final = "lastReason"
    LAST_ATTEMPT_AT: Final = "lastAttemptAt"
    FIRST_PRICE: Final = "firstPrice"  # the first price a check found (set once)
    FIRST_PRICE_AT: Final = "firstPriceAt"


#: The API's item fields (``models.Item``, snake_case) and their attributes.
ITEM_FIELDS: Final[dict[str, str]] = {
    "item_id": ItemAttr.ITEM_ID, "user_id": ItemAttr.USER_ID, "url": ItemAttr.URL,
    "title": ItemAttr.TITLE, "target_price": ItemAttr.TARGET_PRICE,
    "currency": ItemAttr.CURRENCY, "auto_buy": ItemAttr.AUTO_BUY, "status": ItemAttr.STATUS,
    "created_at": ItemAttr.CREATED_AT, "updated_at": ItemAttr.UPDATED_AT,
    "last_checked": ItemAttr.LAST_CHECKED, "next_check_at": ItemAttr.NEXT_CHECK_AT,
    "current_price": ItemAttr.CURRENT_PRICE, "availability": ItemAttr.AVAILABILITY,
    "check_requested_at": ItemAttr.CHECK_REQUESTED_AT,
    "alert_drop_percent": ItemAttr.ALERT_DROP_PERCENT,
    "alert_back_in_stock": ItemAttr.ALERT_BACK_IN_STOCK,
}


class UserAttr:
    """``autobuy_users``: the API's mirror of a user (MySQL stays the source of truth)."""

    USER_ID: Final = USERS.hash_key
    EMAIL: Final = "email"                       # API (sync_user); the engine's e-mail alerts
    SUBSCRIPTION_TIER: Final = "subscriptionTier"  # API (sync_user); the engine's tier
    ITEM_IDS: Final = "itemIds"                  # API: string set, the item-limit slots
    ALERT_WEBHOOK_URL: Final = "alertWebhookUrl"  # read by the engine's webhook channel
    ALERT_WEBHOOK_SECRET: Final = "alertWebhookSecret"
    # engine: spend_<YYYY>_<MM>_<CUR> counters, see spend_attribute()


def spend_attribute(month: str, currency: str) -> str:
    """The user row's auto-buy spend counter of ``month`` ("2025-11") in ``currency``."""
    return f"spend_{month.replace('-', '_')}_{currency}"


class HistoryAttr:
    """``autobuy_price_history``: one row per successful check (engine writes, API reads)."""

    ITEM_ID: Final = PRICE_HISTORY.hash_key
    CHECKED_AT: Final = PRICE_HISTORY.range_key
    PRICE: Final = "price"
    CURRENCY: Final = "currency"
    AVAILABILITY: Final = "availability"
    SOURCE: Final = "source"
    EXPIRES_AT: Final = PRICE_HISTORY.ttl_attribute  # checkedAt + the tier's history_days


class AlertAttr:
    """``autobuy_alerts``: one row per alert fired (engine writes, API lists)."""

    USER_ID: Final = ALERTS.hash_key
    ALERT_ID: Final = ALERTS.range_key  # sorts by time: "<checkedAt:012d>-<itemId>-<kind>-<marker>"
    ITEM_ID: Final = ALERTS_BY_ITEM_INDEX.hash_key
    CREATED_AT: Final = ALERTS_BY_ITEM_INDEX.range_key
    KIND: Final = "kind"
    PRICE: Final = "price"
    CURRENCY: Final = "currency"
    CROSSING: Final = "crossing"
    DELIVERIES: Final = "deliveries"  # {channel: "sent" | "failed: ..."}


class OrderAttr:
    """``autobuy_orders``: one row per auto-buy order intent (engine code, both sides)."""

    USER_ID: Final = ORDERS.hash_key
    ORDER_ID: Final = ORDERS.range_key
    ITEM_ID: Final = ORDERS_BY_ITEM_INDEX.hash_key
    CROSSING: Final = "crossing"
    IDEMPOTENCY_KEY: Final = "idempotencyKey"
    PRICE: Final = "price"
    CURRENCY: Final = "currency"
    STATE: Final = "orderState"
    CREATED_AT: Final = ORDERS_BY_ITEM_INDEX.range_key
    EXPIRES_AT: Final = "expiresAt"
    HISTORY: Final = "history"  # list of {"at", "state", "note"}


class DynamoTables:
    """A DynamoDB client bound to the deployed names of the contract's tables.

    The base of every store that writes these tables (the API's repositories and the
    engine's store): the name of each table is resolved once, here, by :meth:`Table.named`
    (``AUTOBUY_TABLE_NAMES`` override, else ``AUTOBUY_TABLE_PREFIX`` + its name).
    """

    def __init__(self, client: Any, table_prefix: str = "",
                 table_names: Mapping[str, str] | None = None) -> None:
        self._db = client
        self._items = ITEMS.named(table_prefix, table_names)
        self._users = USERS.named(table_prefix, table_names)
        self._history = PRICE_HISTORY.named(table_prefix, table_names)
        self._alerts = ALERTS.named(table_prefix, table_names)
        self._orders = ORDERS.named(table_prefix, table_names)


# -- due shard --------------------------------------------------------------------------
DUE_SHARDS: Final = 16


def due_shard(item_id: str) -> str:
    """The item's ``dueShard``: "0".."15", CRC32 of the item id (spreads the hot key)."""
    return str(zlib.crc32(item_id.encode()) % DUE_SHARDS)


# -- encoding ---------------------------------------------------------------------------
_ser = TypeSerializer()
_de = TypeDeserializer()


def encode(row: dict[str, Any]) -> dict[str, Any]:
    """A row of plain values (str, int, Decimal, bool, list, dict, set) in DynamoDB's
    typed form; attributes whose value is None are left out."""
    return {name: _ser.serialize(value) for name, value in row.items() if value is not None}


def decode(raw: dict[str, Any]) -> dict[str, Any]:
    """A typed DynamoDB row as plain values (numbers come back as Decimal)."""
    return {name: _de.deserialize(value) for name, value in raw.items()}


def values(**named: Any) -> dict[str, Any]:
    """``ExpressionAttributeValues`` from keyword arguments:
    ``values(u="x")`` -> ``{":u": {"S": "x"}}``."""
    return {f":{name}": _ser.serialize(value) for name, value in named.items()}


def is_condition_failure(exc: ClientError) -> bool:
    """True when a conditional write (or a transaction's condition) did not hold."""
    code = exc.response.get("Error", {}).get("Code")
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons") or []
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons) or not reasons
    return code == "ConditionalCheckFailedException"


def conditional_write(write: Callable[..., Any], **params: Any) -> bool:
    """Make a conditional write (``put_item``, ``update_item``, ``delete_item``,
    ``transact_write_items``) with ``params``: True when it was made, False when its
    condition did not hold; any other error is raised."""
    try:
        write(**params)
    except ClientError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


# -- the checks queue -------------------------------------------------------------------
CheckReason = Literal["scheduled", "manual"]


@dataclass(frozen=True, slots=True)
class CheckMessage:
    """One message on the checks queue (``AUTOBUY_CHECKS_QUEUE_URL``; the queue is the
    inventory's ``autobuy_checks_queue``): check item ``item_id`` of ``user_id``.

    Body: ``{"itemId": ..., "userId": ..., "reason": "scheduled" | "manual"}`` (JSON).
    The scheduler sends ``scheduled`` ones, the API's "check now" ``manual`` ones.
    """

    item_id: str
    user_id: str
    reason: CheckReason = "scheduled"

    def encode(self) -> str:
        return json.dumps({"itemId": self.item_id, "userId": self.user_id,
                           "reason": self.reason})

    @classmethod
    def decode(cls, body: str) -> CheckMessage:
        """The message of a body; ValueError when it is not one (not JSON, keys missing)."""
        data = json.loads(body)
        if not isinstance(data, dict) or "itemId" not in data or "userId" not in data:
            raise ValueError("a check message needs itemId and userId")
        reason = data.get("reason", "scheduled")
        return cls(str(data["itemId"]), str(data["userId"]),
                   reason if reason in ("scheduled", "manual") else "scheduled")
