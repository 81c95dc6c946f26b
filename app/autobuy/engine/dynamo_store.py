"""DynamoDB implementation of the engine's stores (tables from the shared definition).

Item attributes written by the API (camelCase, ``autobuy.repositories.dynamo``):
itemId, userId, url, targetPrice, currency, autoBuy, status, lastChecked, nextCheckAt,
currentPrice, availability, dueShard. The engine adds: alertArmed, crossingSeq,
referencePrice, lastAvailability, failStreak, leaseUntil, leaseOwner, lastOutcome,
lastReason, lastAttemptAt — and reads the optional alert options alertDropPercent and
alertBackInStock when the API stores them.

* due items: Query of the keys-only GSI ``dueShard-nextCheckAt-index`` per shard;
* lease: conditional update (free or expired), so one check per item is in flight;
* result: one TransactWriteItems — history Put + item Update conditioned on the lease;
* orders: conditional Put on orderId (idempotent); spend cap: conditional counter
  ``spend_<YYYY>_<MM>_<CUR>`` on the user's ``autobuy_users`` row.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from autobuy.engine.alerts import AlertEvent, AlertRule, AlertState
from autobuy.engine.store import CheckRecord, EngineItem, EngineStore, Order, OrderStore, StoredAlert

__all__ = ["DynamoEngineStore"]

_ser = TypeSerializer()
_de = TypeDeserializer()
_TIER_CACHE_SECONDS = 60


def _failed_condition(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons") or []
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons) or not reasons
    return code == "ConditionalCheckFailedException"


def _plain(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: _de.deserialize(v) for k, v in raw.items()}


def _values(**values: Any) -> dict[str, Any]:
    return {f":{k}": _ser.serialize(v) for k, v in values.items()}


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class DynamoEngineStore(EngineStore, OrderStore):
    def __init__(self, client: Any, table_prefix: str = "") -> None:
        self._db = client
        self._items = table_prefix + "autobuy_items"
        self._users = table_prefix + "autobuy_users"
        self._history = table_prefix + "autobuy_price_history"
        self._alerts = table_prefix + "autobuy_alerts"
        self._orders = table_prefix + "autobuy_orders"
        self._tiers: dict[str, tuple[float, str]] = {}

    @staticmethod
    def _key(item_id: str, user_id: str) -> dict[str, Any]:
        return {"itemId": {"S": item_id}, "userId": {"S": user_id}}

    # -- scheduling -------------------------------------------------------------------
    def due_items(self, shard: str, now: int, limit: int) -> list[tuple[str, str, int]]:
        got = self._db.query(
            TableName=self._items, IndexName="dueShard-nextCheckAt-index",
            KeyConditionExpression="dueShard = :s AND nextCheckAt <= :now",
            ExpressionAttributeValues=_values(s=shard, now=now), Limit=limit)
        return [(row["itemId"], row["userId"], int(row["nextCheckAt"]))
                for row in map(_plain, got.get("Items", []))]

    def postpone(self, item_id: str, user_id: str, expected_next: int, new_next: int) -> bool:
        try:
            self._db.update_item(
                TableName=self._items, Key=self._key(item_id, user_id),
                UpdateExpression="SET nextCheckAt = :new",
                ConditionExpression="nextCheckAt = :old",
                ExpressionAttributeValues=_values(new=new_next, old=expected_next))
        except ClientError as exc:
            if _failed_condition(exc):
                return False
            raise
        return True

    def get_item(self, item_id: str, user_id: str) -> EngineItem | None:
        got = self._db.get_item(TableName=self._items, Key=self._key(item_id, user_id),
                                ConsistentRead=True)
        if "Item" not in got:
            return None
        row = _plain(got["Item"])
        drop = row.get("alertDropPercent")
        rule = AlertRule(target_price=_dec(row.get("targetPrice")), currency=row["currency"],
                         drop_percent=_dec(drop), back_in_stock=bool(row.get("alertBackInStock")))
        alert = AlertState(armed=bool(row.get("alertArmed", True)),
                           crossing=int(row.get("crossingSeq", 0)),
                           reference_price=_dec(row.get("referencePrice")),
                           last_availability=row.get("lastAvailability"))
        return EngineItem(
            item_id=item_id, user_id=user_id, url=row["url"], rule=rule, alert=alert,
            auto_buy=bool(row.get("autoBuy", False)), status=row.get("status", "active"),
            next_check_at=int(row.get("nextCheckAt", 0)),
            last_checked=int(row.get("lastChecked", 0)),
            current_price=_dec(row.get("currentPrice")), availability=row.get("availability"),
            fail_streak=int(row.get("failStreak", 0)), lease_until=int(row.get("leaseUntil", 0)),
            lease_owner=row.get("leaseOwner"))

    def claim(self, item_id: str, user_id: str, owner: str, now: int, lease_seconds: int) -> bool:
        try:
            self._db.update_item(
                TableName=self._items, Key=self._key(item_id, user_id),
                UpdateExpression="SET leaseUntil = :until, leaseOwner = :owner",
                ConditionExpression=("attribute_exists(itemId) AND "
                                     "(attribute_not_exists(leaseUntil) OR leaseUntil <= :now)"),
                ExpressionAttributeValues=_values(until=now + lease_seconds, owner=owner, now=now))
        except ClientError as exc:
            if _failed_condition(exc):
                return False
            raise
        return True

    def record_check(self, item: EngineItem, owner: str, record: CheckRecord) -> bool:
        ok = record.outcome == "ok"
        sets = ["nextCheckAt = :next", "alertArmed = :armed", "crossingSeq = :crossing",
                "lastOutcome = :outcome", "lastAttemptAt = :at"]
        removes = ["leaseUntil", "leaseOwner"]
        values: dict[str, Any] = {"next": record.next_check_at, "armed": record.alert.armed,
                                  "crossing": record.alert.crossing, "outcome": record.outcome,
                                  "at": record.checked_at, "owner": owner,
                                  "streak": 0 if ok else item.fail_streak + 1}
        sets.append("failStreak = :streak")
        optional = {"referencePrice": record.alert.reference_price,
                    "lastAvailability": record.alert.last_availability,
                    "lastReason": record.reason}
        if ok:
            sets.append("lastChecked = :at")
            optional.update({"currentPrice": record.price, "availability": record.availability})
        for name, value in optional.items():
            if value is not None:
                sets.append(f"{name} = :{name}")
                values[name] = value
            elif name in ("referencePrice", "lastReason"):
                removes.append(name)
        update = {"Update": {
            "TableName": self._items, "Key": self._key(item.item_id, item.user_id),
            "UpdateExpression": f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
            "ConditionExpression": "leaseOwner = :owner",
            "ExpressionAttributeValues": _values(**values)}}
        actions = [update]
        if ok and (record.price is not None or record.availability is not None):
            row = {"itemId": item.item_id, "checkedAt": record.checked_at, "price": record.price,
                   "currency": record.currency, "availability": record.availability,
                   "source": record.source, "expiresAt": record.history_expires_at}
            actions.append({"Put": {"TableName": self._history, "Item": {
                k: _ser.serialize(v) for k, v in row.items() if v is not None}}})
        try:
            self._db.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if _failed_condition(exc):
                return False
            raise
        return True

    # -- alerts / tiers ---------------------------------------------------------------
    def add_alert(self, alert: StoredAlert) -> None:
        event = alert.event
        row = {"userId": alert.user_id, "alertId": alert.alert_id, "itemId": alert.item_id,
               "createdAt": alert.created_at, "kind": event.kind, "price": event.price,
               "currency": event.currency, "crossing": event.crossing,
               "deliveries": dict(alert.deliveries)}
        try:
            self._db.put_item(TableName=self._alerts,
                              Item={k: _ser.serialize(v) for k, v in row.items() if v is not None},
                              ConditionExpression="attribute_not_exists(alertId)")
        except ClientError as exc:
            if not _failed_condition(exc):
                raise

    def set_alert_deliveries(self, user_id: str, alert_id: str,
                             deliveries: dict[str, str]) -> None:
        self._db.update_item(
            TableName=self._alerts, Key={"userId": {"S": user_id}, "alertId": {"S": alert_id}},
            UpdateExpression="SET deliveries = :d", ExpressionAttributeValues=_values(d=deliveries))

    def alerts_for_user(self, user_id: str) -> list[StoredAlert]:
        got = self._db.query(TableName=self._alerts, KeyConditionExpression="userId = :u",
                             ExpressionAttributeValues=_values(u=user_id))
        return [self._alert(row) for row in map(_plain, got.get("Items", []))]

    def alerts_page(self, user_id: str, limit: int,
                    after: str | None = None) -> tuple[list[StoredAlert], str | None]:
        """A user's alerts newest first (alert ids sort by time); ``after`` = last id seen."""
        params: dict[str, Any] = {
            "TableName": self._alerts, "KeyConditionExpression": "userId = :u",
            "ExpressionAttributeValues": _values(u=user_id), "ScanIndexForward": False,
            "Limit": limit}
        if after is not None:
            params["ExclusiveStartKey"] = {"userId": {"S": user_id}, "alertId": {"S": after}}
        got = self._db.query(**params)
        last = got.get("LastEvaluatedKey")
        return ([self._alert(row) for row in map(_plain, got.get("Items", []))],
                last["alertId"]["S"] if last else None)

    @staticmethod
    def _alert(row: dict[str, Any]) -> StoredAlert:
        crossing = row.get("crossing")
        event = AlertEvent(row["kind"], _dec(row.get("price")), row.get("currency"),
                           int(crossing) if crossing is not None else None)
        return StoredAlert(row["userId"], row["alertId"], row["itemId"], int(row["createdAt"]),
                           event, row.get("deliveries", {}))

    def user_tier(self, user_id: str) -> str:
        cached = self._tiers.get(user_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        got = self._db.get_item(TableName=self._users, Key={"userId": {"S": user_id}},
                                ProjectionExpression="subscriptionTier")
        tier = _plain(got.get("Item", {})).get("subscriptionTier", "free")
        self._tiers[user_id] = (time.monotonic() + _TIER_CACHE_SECONDS, tier)
        return tier

    def webhook_for(self, user_id: str) -> tuple[str, bytes] | None:
        """The user's alert webhook (``alertWebhookUrl`` + ``alertWebhookSecret`` on the
        ``autobuy_users`` row, written by the API), or None."""
        got = self._db.get_item(TableName=self._users, Key={"userId": {"S": user_id}},
                                ProjectionExpression="alertWebhookUrl, alertWebhookSecret")
        row = _plain(got.get("Item", {}))
        url, secret = row.get("alertWebhookUrl"), row.get("alertWebhookSecret")
        return (url, secret.encode()) if url and secret else None

    def email_for(self, user_id: str) -> str | None:
        """The user's e-mail address (``email`` on the ``autobuy_users`` row, mirrored by
        the API's ``sync_user``), or None."""
        got = self._db.get_item(TableName=self._users, Key={"userId": {"S": user_id}},
                                ProjectionExpression="email")
        return _plain(got.get("Item", {})).get("email") or None

    # -- orders -----------------------------------------------------------------------
    @staticmethod
    def _order_row(order: Order) -> dict[str, Any]:
        row = {"userId": order.user_id, "orderId": order.order_id, "itemId": order.item_id,
               "crossing": order.crossing, "idempotencyKey": order.idempotency_key,
               "price": order.price, "currency": order.currency, "orderState": order.state,
               "createdAt": order.created_at, "expiresAt": order.expires_at,
               "history": [{"at": at, "state": state, "note": note}
                           for at, state, note in order.history]}
        return {k: _ser.serialize(v) for k, v in row.items()}

    @staticmethod
    def _order(raw: dict[str, Any]) -> Order:
        row = _plain(raw)
        return Order(user_id=row["userId"], order_id=row["orderId"], item_id=row["itemId"],
                     crossing=int(row["crossing"]), idempotency_key=row["idempotencyKey"],
                     price=Decimal(str(row["price"])), currency=row["currency"],
                     state=row["orderState"], created_at=int(row["createdAt"]),
                     expires_at=int(row["expiresAt"]),
                     history=tuple((int(h["at"]), h["state"], h["note"])
                                   for h in row.get("history", [])))

    def put_if_absent(self, order: Order) -> bool:
        try:
            self._db.put_item(TableName=self._orders, Item=self._order_row(order),
                              ConditionExpression="attribute_not_exists(orderId)")
        except ClientError as exc:
            if _failed_condition(exc):
                return False
            raise
        return True

    def get(self, user_id: str, order_id: str) -> Order | None:
        got = self._db.get_item(TableName=self._orders, ConsistentRead=True,
                                Key={"userId": {"S": user_id}, "orderId": {"S": order_id}})
        return self._order(got["Item"]) if "Item" in got else None

    def list_for_user(self, user_id: str) -> list[Order]:
        params: dict[str, Any] = {"TableName": self._orders, "KeyConditionExpression": "userId = :u",
                                  "ExpressionAttributeValues": _values(u=user_id)}
        found: list[Order] = []
        while True:  # a query answers at most 1 MB; follow it to the end
            got = self._db.query(**params)
            found.extend(self._order(r) for r in got.get("Items", []))
            if "LastEvaluatedKey" not in got:
                return sorted(found, key=lambda o: (o.created_at, o.order_id), reverse=True)
            params["ExclusiveStartKey"] = got["LastEvaluatedKey"]

    def transition(self, order: Order, expected_state: str, new_state: str, at: int,
                   note: str) -> Order | None:
        try:
            got = self._db.update_item(
                TableName=self._orders,
                Key={"userId": {"S": order.user_id}, "orderId": {"S": order.order_id}},
                UpdateExpression="SET orderState = :new, history = list_append(history, :entry)",
                ConditionExpression="orderState = :expected",
                ExpressionAttributeValues=_values(new=new_state, expected=expected_state,
                                                  entry=[{"at": at, "state": new_state,
                                                          "note": note}]),
                ReturnValues="ALL_NEW")
        except ClientError as exc:
            if _failed_condition(exc):
                return None
            raise
        return self._order(got["Attributes"])

    def pending_before(self, now: int) -> list[Order]:
        # Orders are few (ultra tier, opt-in); a filtered scan by the expiry sweep is fine.
        found: list[Order] = []
        params: dict[str, Any] = {
            "TableName": self._orders,
            "FilterExpression": "orderState = :p AND expiresAt < :now",
            "ExpressionAttributeValues": _values(p="pending", now=now)}
        while True:
            got = self._db.scan(**params)
            found.extend(self._order(r) for r in got.get("Items", []))
            if "LastEvaluatedKey" not in got:
                return found
            params["ExclusiveStartKey"] = got["LastEvaluatedKey"]

    @staticmethod
    def _spend_attr(month: str, currency: str) -> str:
        return f"spend_{month.replace('-', '_')}_{currency}"

    def reserve_spend(self, user_id: str, month: str, currency: str, amount: Decimal,
                      cap: Decimal) -> bool:
        if amount > cap:
            return False
        try:
            self._db.update_item(
                TableName=self._users, Key={"userId": {"S": user_id}},
                UpdateExpression="SET #n = if_not_exists(#n, :zero) + :amount",
                ConditionExpression="attribute_not_exists(#n) OR #n <= :room",
                ExpressionAttributeNames={"#n": self._spend_attr(month, currency)},
                ExpressionAttributeValues=_values(zero=Decimal(0), amount=amount,
                                                  room=cap - amount))
        except ClientError as exc:
            if _failed_condition(exc):
                return False
            raise
        return True

    def release_spend(self, user_id: str, month: str, currency: str, amount: Decimal) -> None:
        self._db.update_item(
            TableName=self._users, Key={"userId": {"S": user_id}},
            UpdateExpression="ADD #n :minus",
            ExpressionAttributeNames={"#n": self._spend_attr(month, currency)},
            ExpressionAttributeValues=_values(minus=-amount))
