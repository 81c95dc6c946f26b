"""DynamoDB implementation of the engine's stores, on the rows ``autobuy.contract`` defines.

The API creates item rows (``ItemAttr``: its attributes of ``ITEM_FIELDS`` and
``dueShard``); the engine reads them, adds its own (alert state, lease, fail streak,
last outcome) and writes the history, alert and order rows.

* due items: Query of the keys-only GSI ``dueShard-nextCheckAt-index`` per shard;
* lease: conditional update (free or expired), so one check per item is in flight;
* result: one TransactWriteItems — history Put + item Update conditioned on the lease;
* orders: conditional Put on orderId (idempotent); spend cap: conditional counter
  ``spend_<YYYY>_<MM>_<CUR>`` on the user's ``autobuy_users`` row.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from autobuy.contract import (
    ALERTS,
    ITEMS,
    ITEMS_DUE_INDEX,
    ORDERS,
    PRICE_HISTORY,
    USERS,
    AlertAttr,
    DynamoTables,
    HistoryAttr,
    ItemAttr,
    OrderAttr,
    UserAttr,
    conditional_write,
    decode,
    encode,
    is_condition_failure,
    spend_attribute,
    values,
)
from autobuy.engine.alerts import AlertEvent, AlertRule, AlertState
from autobuy.engine.store import CheckRecord, EngineItem, EngineStore, Order, OrderStore, StoredAlert

__all__ = ["DynamoEngineStore"]

_TIER_CACHE_SECONDS = 60
# Short names for the contract's attribute names, which fill the expressions below.
I, U, H, A, O = ItemAttr, UserAttr, HistoryAttr, AlertAttr, OrderAttr  # noqa: E741


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class DynamoEngineStore(DynamoTables, EngineStore, OrderStore):
    def __init__(self, client: Any, table_prefix: str = "",
                 table_names: Mapping[str, str] | None = None) -> None:
        super().__init__(client, table_prefix, table_names)
        self._tiers: dict[str, tuple[float, str]] = {}

    @staticmethod
    def _key(item_id: str, user_id: str) -> dict[str, Any]:
        return ITEMS.key(item_id, user_id)

    # -- scheduling -------------------------------------------------------------------
    def due_items(self, shard: str, now: int, limit: int) -> list[tuple[str, str, int]]:
        got = self._db.query(
            TableName=self._items, IndexName=ITEMS_DUE_INDEX.name,
            KeyConditionExpression=f"{I.DUE_SHARD} = :s AND {I.NEXT_CHECK_AT} <= :now",
            ExpressionAttributeValues=values(s=shard, now=now), Limit=limit)
        return [(row[I.ITEM_ID], row[I.USER_ID], int(row[I.NEXT_CHECK_AT]))
                for row in map(decode, got.get("Items", []))]

    def postpone(self, item_id: str, user_id: str, expected_next: int, new_next: int) -> bool:
        return conditional_write(
            self._db.update_item,
            TableName=self._items, Key=self._key(item_id, user_id),
            UpdateExpression=f"SET {I.NEXT_CHECK_AT} = :new",
            ConditionExpression=f"{I.NEXT_CHECK_AT} = :old",
            ExpressionAttributeValues=values(new=new_next, old=expected_next))

    def get_item(self, item_id: str, user_id: str) -> EngineItem | None:
        got = self._db.get_item(TableName=self._items, Key=self._key(item_id, user_id),
                                ConsistentRead=True)
        if "Item" not in got:
            return None
        row = decode(got["Item"])
        rule = AlertRule(target_price=_dec(row.get(I.TARGET_PRICE)), currency=row[I.CURRENCY],
                         drop_percent=_dec(row.get(I.ALERT_DROP_PERCENT)),
                         back_in_stock=bool(row.get(I.ALERT_BACK_IN_STOCK)))
        alert = AlertState(armed=bool(row.get(I.ALERT_ARMED, True)),
                           crossing=int(row.get(I.CROSSING_SEQ, 0)),
                           reference_price=_dec(row.get(I.REFERENCE_PRICE)),
                           last_availability=row.get(I.LAST_AVAILABILITY))
        return EngineItem(
            item_id=item_id, user_id=user_id, url=row[I.URL], rule=rule, alert=alert,
            auto_buy=bool(row.get(I.AUTO_BUY, False)), status=row.get(I.STATUS, "active"),
            next_check_at=int(row.get(I.NEXT_CHECK_AT, 0)),
            last_checked=int(row.get(I.LAST_CHECKED, 0)),
            current_price=_dec(row.get(I.CURRENT_PRICE)), availability=row.get(I.AVAILABILITY),
            fail_streak=int(row.get(I.FAIL_STREAK, 0)),
            lease_until=int(row.get(I.LEASE_UNTIL, 0)), lease_owner=row.get(I.LEASE_OWNER))

    def claim(self, item_id: str, user_id: str, owner: str, now: int, lease_seconds: int) -> bool:
        return conditional_write(
            self._db.update_item,
            TableName=self._items, Key=self._key(item_id, user_id),
            UpdateExpression=f"SET {I.LEASE_UNTIL} = :until, {I.LEASE_OWNER} = :owner",
            ConditionExpression=(f"attribute_exists({I.ITEM_ID}) AND "
                                 f"(attribute_not_exists({I.LEASE_UNTIL}) OR "
                                 f"{I.LEASE_UNTIL} <= :now)"),
            ExpressionAttributeValues=values(until=now + lease_seconds, owner=owner, now=now))

    def release(self, item_id: str, user_id: str, owner: str) -> bool:
        return conditional_write(
            self._db.update_item,
            TableName=self._items, Key=self._key(item_id, user_id),
            UpdateExpression=f"REMOVE {I.LEASE_UNTIL}, {I.LEASE_OWNER}",
            ConditionExpression=f"{I.LEASE_OWNER} = :owner",
            ExpressionAttributeValues=values(owner=owner))

    def record_check(self, item: EngineItem, owner: str, record: CheckRecord) -> bool:
        ok = record.outcome == "ok"
        sets = [f"{I.NEXT_CHECK_AT} = :next", f"{I.ALERT_ARMED} = :armed",
                f"{I.CROSSING_SEQ} = :crossing", f"{I.LAST_OUTCOME} = :outcome",
                f"{I.LAST_ATTEMPT_AT} = :at"]
        removes = [I.LEASE_UNTIL, I.LEASE_OWNER]
        named: dict[str, Any] = {"next": record.next_check_at, "armed": record.alert.armed,
                                 "crossing": record.alert.crossing, "outcome": record.outcome,
                                 "at": record.checked_at, "owner": owner,
                                 "streak": 0 if ok else item.fail_streak + 1}
        sets.append(f"{I.FAIL_STREAK} = :streak")
        optional = {I.REFERENCE_PRICE: record.alert.reference_price,
                    I.LAST_AVAILABILITY: record.alert.last_availability,
                    I.LAST_REASON: record.reason}
        if ok and record.price is not None:  # kept from the first check that found a price
            sets += [f"{I.FIRST_PRICE} = if_not_exists({I.FIRST_PRICE}, :first)",
                     f"{I.FIRST_PRICE_AT} = if_not_exists({I.FIRST_PRICE_AT}, :at)"]
            named["first"] = record.price
        if ok:
            sets.append(f"{I.LAST_CHECKED} = :at")
            optional.update({I.CURRENT_PRICE: record.price, I.AVAILABILITY: record.availability})
        for name, value in optional.items():
            if value is not None:
                sets.append(f"{name} = :{name}")
                named[name] = value
            elif name in (I.REFERENCE_PRICE, I.LAST_REASON):
                removes.append(name)
        update = {"Update": {
            "TableName": self._items, "Key": self._key(item.item_id, item.user_id),
            "UpdateExpression": f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
            "ConditionExpression": f"{I.LEASE_OWNER} = :owner",
            "ExpressionAttributeValues": values(**named)}}
        actions = [update]
        if ok and (record.price is not None or record.availability is not None):
            row = {H.ITEM_ID: item.item_id, H.CHECKED_AT: record.checked_at,
                   H.PRICE: record.price, H.CURRENCY: record.currency,
                   H.AVAILABILITY: record.availability, H.SOURCE: record.source,
                   H.EXPIRES_AT: record.history_expires_at}
            actions.append({"Put": {"TableName": self._history, "Item": encode(row)}})
        return conditional_write(self._db.transact_write_items, TransactItems=actions)

    # -- alerts / tiers ---------------------------------------------------------------
    def add_alert(self, alert: StoredAlert) -> None:
        event = alert.event
        row = {A.USER_ID: alert.user_id, A.ALERT_ID: alert.alert_id, A.ITEM_ID: alert.item_id,
               A.CREATED_AT: alert.created_at, A.KIND: event.kind, A.PRICE: event.price,
               A.CURRENCY: event.currency, A.CROSSING: event.crossing,
               A.DELIVERIES: dict(alert.deliveries)}
        conditional_write(self._db.put_item, TableName=self._alerts, Item=encode(row),
                          ConditionExpression=f"attribute_not_exists({A.ALERT_ID})")

    def set_alert_deliveries(self, user_id: str, alert_id: str,
                             deliveries: dict[str, str]) -> None:
        self._db.update_item(
            TableName=self._alerts, Key=ALERTS.key(user_id, alert_id),
            UpdateExpression=f"SET {A.DELIVERIES} = :d",
            ExpressionAttributeValues=values(d=deliveries))

    def alerts_for_user(self, user_id: str) -> list[StoredAlert]:
        got = self._db.query(TableName=self._alerts, KeyConditionExpression=f"{A.USER_ID} = :u",
                             ExpressionAttributeValues=values(u=user_id))
        return [self._alert(row) for row in map(decode, got.get("Items", []))]

    def alerts_page(self, user_id: str, limit: int,
                    after: str | None = None) -> tuple[list[StoredAlert], str | None]:
        """A user's alerts newest first (alert ids sort by time); ``after`` = last id seen."""
        params: dict[str, Any] = {
            "TableName": self._alerts, "KeyConditionExpression": f"{A.USER_ID} = :u",
            "ExpressionAttributeValues": values(u=user_id), "ScanIndexForward": False,
            "Limit": limit}
        if after is not None:
            params["ExclusiveStartKey"] = ALERTS.key(user_id, after)
        got = self._db.query(**params)
        last = got.get("LastEvaluatedKey")
        return ([self._alert(row) for row in map(decode, got.get("Items", []))],
                last[A.ALERT_ID]["S"] if last else None)

    @staticmethod
    def _alert(row: dict[str, Any]) -> StoredAlert:
        crossing = row.get(A.CROSSING)
        event = AlertEvent(row[A.KIND], _dec(row.get(A.PRICE)), row.get(A.CURRENCY),
                           int(crossing) if crossing is not None else None)
        return StoredAlert(row[A.USER_ID], row[A.ALERT_ID], row[A.ITEM_ID],
                           int(row[A.CREATED_AT]), event, row.get(A.DELIVERIES, {}))

    def user_tier(self, user_id: str) -> str:
        cached = self._tiers.get(user_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        got = self._db.get_item(TableName=self._users, Key=USERS.key(user_id),
                                ProjectionExpression=U.SUBSCRIPTION_TIER)
        tier = decode(got.get("Item", {})).get(U.SUBSCRIPTION_TIER, "free")
        self._tiers[user_id] = (time.monotonic() + _TIER_CACHE_SECONDS, tier)
        return tier

    def webhook_for(self, user_id: str) -> tuple[str, bytes] | None:
        """The user's alert webhook (``alertWebhookUrl`` + ``alertWebhookSecret`` on the
        ``autobuy_users`` row, written by the API), or None."""
        got = self._db.get_item(
            TableName=self._users, Key=USERS.key(user_id),
            ProjectionExpression=f"{U.ALERT_WEBHOOK_URL}, {U.ALERT_WEBHOOK_SECRET}")
        row = decode(got.get("Item", {}))
        url, secret = row.get(U.ALERT_WEBHOOK_URL), row.get(U.ALERT_WEBHOOK_SECRET)
        return (url, secret.encode()) if url and secret else None

    def email_for(self, user_id: str) -> str | None:
        """The user's e-mail address (``email`` on the ``autobuy_users`` row, mirrored by
        the API's ``sync_user``), or None."""
        got = self._db.get_item(TableName=self._users, Key=USERS.key(user_id),
                                ProjectionExpression=U.EMAIL)
        return decode(got.get("Item", {})).get(U.EMAIL) or None

    # -- orders -----------------------------------------------------------------------
    @staticmethod
    def _order_row(order: Order) -> dict[str, Any]:
        row = {O.USER_ID: order.user_id, O.ORDER_ID: order.order_id, O.ITEM_ID: order.item_id,
               O.CROSSING: order.crossing, O.IDEMPOTENCY_KEY: order.idempotency_key,
               O.PRICE: order.price, O.CURRENCY: order.currency, O.STATE: order.state,
               O.CREATED_AT: order.created_at, O.EXPIRES_AT: order.expires_at,
               O.HISTORY: [{"at": at, "state": state, "note": note}
                           for at, state, note in order.history]}
        return encode(row)

    @staticmethod
    def _order(raw: dict[str, Any]) -> Order:
        row = decode(raw)
        return Order(user_id=row[O.USER_ID], order_id=row[O.ORDER_ID], item_id=row[O.ITEM_ID],
                     crossing=int(row[O.CROSSING]), idempotency_key=row[O.IDEMPOTENCY_KEY],
                     price=Decimal(str(row[O.PRICE])), currency=row[O.CURRENCY],
                     state=row[O.STATE], created_at=int(row[O.CREATED_AT]),
                     expires_at=int(row[O.EXPIRES_AT]),
                     history=tuple((int(h["at"]), h["state"], h["note"])
                                   for h in row.get(O.HISTORY, [])))

    def put_if_absent(self, order: Order) -> bool:
        return conditional_write(
            self._db.put_item,
            TableName=self._orders, Item=self._order_row(order),
            ConditionExpression=f"attribute_not_exists({O.ORDER_ID})")

    def get(self, user_id: str, order_id: str) -> Order | None:
        got = self._db.get_item(TableName=self._orders, ConsistentRead=True,
                                Key=ORDERS.key(user_id, order_id))
        return self._order(got["Item"]) if "Item" in got else None

    def list_for_user(self, user_id: str) -> list[Order]:
        params: dict[str, Any] = {"TableName": self._orders,
                                  "KeyConditionExpression": f"{O.USER_ID} = :u",
                                  "ExpressionAttributeValues": values(u=user_id)}
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
                Key=ORDERS.key(order.user_id, order.order_id),
                UpdateExpression=(f"SET {O.STATE} = :new, "
                                  f"{O.HISTORY} = list_append({O.HISTORY}, :entry)"),
                ConditionExpression=f"{O.STATE} = :expected",
                ExpressionAttributeValues=values(new=new_state, expected=expected_state,
                                                 entry=[{"at": at, "state": new_state,
                                                         "note": note}]),
                ReturnValues="ALL_NEW")
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return self._order(got["Attributes"])

    def pending_before(self, now: int) -> list[Order]:
        # Orders are few (ultra tier, opt-in); a filtered scan by the expiry sweep is fine.
        found: list[Order] = []
        params: dict[str, Any] = {
            "TableName": self._orders,
            "FilterExpression": f"{O.STATE} = :p AND {O.EXPIRES_AT} < :now",
            "ExpressionAttributeValues": values(p="pending", now=now)}
        while True:
            got = self._db.scan(**params)
            found.extend(self._order(r) for r in got.get("Items", []))
            if "LastEvaluatedKey" not in got:
                return found
            params["ExclusiveStartKey"] = got["LastEvaluatedKey"]

    def reserve_spend(self, user_id: str, month: str, currency: str, amount: Decimal,
                      cap: Decimal) -> bool:
        if amount > cap:
            return False
        return conditional_write(
            self._db.update_item,
            TableName=self._users, Key=USERS.key(user_id),
            UpdateExpression="SET #n = if_not_exists(#n, :zero) + :amount",
            ConditionExpression="attribute_not_exists(#n) OR #n <= :room",
            ExpressionAttributeNames={"#n": spend_attribute(month, currency)},
            ExpressionAttributeValues=values(zero=Decimal(0), amount=amount,
                                             room=cap - amount))

    def release_spend(self, user_id: str, month: str, currency: str, amount: Decimal) -> None:
        self._db.update_item(
            TableName=self._users, Key=USERS.key(user_id),
            UpdateExpression="ADD #n :minus",
            ExpressionAttributeNames={"#n": spend_attribute(month, currency)},
            ExpressionAttributeValues=values(minus=-amount))
