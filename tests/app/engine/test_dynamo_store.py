"""DynamoDB store on the local cloud: conditional writes that keep the engine's promises."""

from __future__ import annotations

import uuid
from decimal import Decimal

import boto3
import pytest

from autobuy.contract import due_shard as shard_of
from autobuy.engine.alerts import AlertState
from autobuy.engine.dynamo_store import DynamoEngineStore
from autobuy.engine.store import CheckRecord, Order
from autobuy.schema import create_table_params, load_tables

from tests.app.support.local import at_once

pytestmark = pytest.mark.slow
NOW = 1_764_000_000


@pytest.fixture(scope="module")
def store(localcloud: str) -> DynamoEngineStore:
    prefix = f"ds{uuid.uuid4().hex[:8]}_"
    client = boto3.client("dynamodb")
    for table in load_tables():
        client.create_table(**create_table_params(table, prefix))
    client.put_item(TableName=prefix + "autobuy_items", Item={
        "itemId": {"S": "i1"}, "userId": {"S": "u1"}, "url": {"S": "https://www.shop.de/p/1"},
        "targetPrice": {"N": "100"}, "currency": {"S": "EUR"}, "status": {"S": "active"},
        "nextCheckAt": {"N": str(NOW)}, "dueShard": {"S": shard_of("i1")}})
    return DynamoEngineStore(client, prefix)


def test_due_query_postpone_and_lease(store: DynamoEngineStore) -> None:
    assert store.due_items(shard_of("i1"), NOW, 10) == [("i1", "u1", NOW)]
    assert store.due_items(shard_of("i1"), NOW - 1, 10) == []
    assert store.postpone("i1", "u1", NOW, NOW + 300)
    assert not store.postpone("i1", "u1", NOW, NOW + 600)  # someone else moved it
    assert store.claim("i1", "u1", "w1", NOW, 300)
    assert not store.claim("i1", "u1", "w2", NOW + 10, 300)
    item = store.get_item("i1", "u1")
    record = CheckRecord(NOW + 5, "ok", Decimal("99.90"), "EUR", "in_stock", "json-ld", None,
                         NOW + 900, AlertState(armed=False, crossing=1), NOW + 86400)
    assert not store.record_check(item, "w2", record)  # not the lease holder: nothing written
    assert store.record_check(item, "w1", record)
    after = store.get_item("i1", "u1")
    assert (after.current_price, after.last_checked, after.next_check_at, after.lease_owner) == (
        Decimal("99.90"), NOW + 5, NOW + 900, None)
    assert after.alert == AlertState(armed=False, crossing=1, last_availability=None)
    assert store.claim("i1", "u1", "w2", NOW + 10, 300)  # lease released


def test_spend_cap_holds_under_concurrent_reservations(store: DynamoEngineStore) -> None:
    results = at_once(lambda: store.reserve_spend("u-cap", "2025-11", "EUR", Decimal("100"),
                                                  Decimal("500")), 10)
    assert results.count(True) == 5
    store.release_spend("u-cap", "2025-11", "EUR", Decimal("100"))
    assert store.reserve_spend("u-cap", "2025-11", "EUR", Decimal("100"), Decimal("500"))
    assert not store.reserve_spend("u-cap", "2025-11", "EUR", Decimal("600"), Decimal("500"))


def test_orders_are_created_once_and_transition_conditionally(store: DynamoEngineStore) -> None:
    order = Order("u1", "ord_x", "i1", 1, "i1:1", Decimal("99.90"), "EUR", "pending", NOW,
                  NOW + 900, ((NOW, "pending", "awaiting confirmation"),))
    assert store.put_if_absent(order)
    assert not store.put_if_absent(order)
    confirmed = store.transition(order, "pending", "confirmed", NOW + 1, "by user")
    assert confirmed is not None and confirmed.history[-1] == (NOW + 1, "confirmed", "by user")
    assert store.transition(order, "pending", "cancelled", NOW + 2, "late") is None
    assert store.get("u1", "ord_x").state == "confirmed"
    assert [o.order_id for o in store.list_for_user("u1")] == ["ord_x"]
