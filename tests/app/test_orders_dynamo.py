"""Orders, alerts and item alert options on the local cloud's DynamoDB (no MySQL)."""
from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import falcon.testing
import pytest
from autobuy.app import create_app
from autobuy.engine.alerts import AlertEvent
from autobuy.engine.checks import CheckPolicy, CheckService
from autobuy.engine.dynamo_store import DynamoEngineStore
from autobuy.engine.fetch import FetchResult
from autobuy.engine.orders import OrderPolicy, OrderService
from autobuy.engine.store import StoredAlert
from autobuy.repositories.dynamo import DynamoItemRepository

from tests.app import helpers
from tests.app.conftest import sign_in
from tests.app.test_orders import RecordingPurchaser

CORPUS = Path(__file__).parent / "engine" / "corpus"


@pytest.fixture
def dynamo_app(dynamo_tables, google_keys):
    db, prefix = dynamo_tables
    engine = DynamoEngineStore(db, prefix)
    purchaser = RecordingPurchaser()
    stores = helpers.memory_stores(items=DynamoItemRepository(db, prefix), engine=engine,
                                   purchaser=purchaser)
    client = falcon.testing.TestClient(create_app(
        helpers.settings(google_jwks_url=google_keys.url), stores=stores))
    return client, engine, purchaser, db, prefix


def test_patch_never_touches_the_engines_item_attributes(dynamo_app):
    client, _, _, db, prefix = dynamo_app
    tokens = sign_in(client)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    item = client.simulate_post("/v1/items", headers=auth, json={
        "url": "https://www.example-shop.de/p/1", "target_price": "9.99", "currency": "EUR",
        "alert_drop_percent": "15"}).json
    key = {"itemId": {"S": item["id"]}, "userId": {"S": tokens["user"]["id"]}}
    engine_attrs = {"alertArmed": {"BOOL": False}, "crossingSeq": {"N": "3"},
                    "leaseUntil": {"N": "1999999999"}, "failStreak": {"N": "2"},
                    "referencePrice": {"N": "12.5"}}
    db.update_item(TableName=prefix + "autobuy_items", Key=key,
                   UpdateExpression="SET " + ", ".join(f"{k} = :{k}" for k in engine_attrs),
                   ExpressionAttributeValues={f":{k}": v for k, v in engine_attrs.items()})
    for body in ({"target_price": "5", "status": "paused", "title": "New"},
                 {"alert_back_in_stock": True, "alert_drop_percent": None}, {"auto_buy": False}):
        result = client.simulate_patch(f"/v1/items/{item['id']}", headers=auth, json=body)
        assert result.status_code == 200, result.text
    raw = db.get_item(TableName=prefix + "autobuy_items", Key=key, ConsistentRead=True)["Item"]
    assert {k: raw[k] for k in engine_attrs} == engine_attrs
    assert raw["targetPrice"] == {"N": "5"} and raw["alertBackInStock"] == {"BOOL": True}
    assert "alertDropPercent" not in raw


def test_orders_and_alerts_end_to_end(dynamo_app):
    client, engine, purchaser, _, _ = dynamo_app
    tokens = sign_in(client)
    user_id, auth = tokens["user"]["id"], {"Authorization": f"Bearer {tokens['access_token']}"}
    service = OrderService(engine, RecordingPurchaser(), OrderPolicy())
    orders = [service.create_intent(user_id=user_id, item_id="item-1", crossing=n,
                                    price=Decimal("19.90"), currency="EUR",
                                    checked_at=int(time.time())) for n in (1, 2, 3)]
    first = client.simulate_get("/v1/orders", headers=auth, params={"limit": "2"}).json
    rest = client.simulate_get("/v1/orders", headers=auth,
                               params={"limit": "2", "cursor": first["next_cursor"]}).json
    assert {o["id"] for o in first["items"] + rest["items"]} == {o.order_id for o in orders}
    bob = {"Authorization": f"Bearer {sign_in(client, 'bob@example.com')['access_token']}"}
    assert client.simulate_post(f"/v1/orders/{orders[0].order_id}/confirm",
                                headers=bob).status_code == 404
    placed = client.simulate_post(f"/v1/orders/{orders[0].order_id}/confirm", headers=auth)
    assert placed.status_code == 200 and placed.json["state"] == "placed"
    cancelled = client.simulate_post(f"/v1/orders/{orders[1].order_id}/cancel", headers=auth)
    assert cancelled.status_code == 200 and cancelled.json["state"] == "cancelled"
    assert client.simulate_post(f"/v1/orders/{orders[1].order_id}/confirm",
                                headers=auth).status_code == 409
    assert [o.order_id for o in purchaser.placed] == [orders[0].order_id]
    for at in (1000, 3000, 2000):
        engine.add_alert(StoredAlert(user_id, f"{at:012d}-item-1-price-{at}", "item-1", at,
                                     AlertEvent("price", Decimal("9.5"), "EUR", 1)))
    page = client.simulate_get("/v1/alerts", headers=auth, params={"limit": "2"}).json
    more = client.simulate_get("/v1/alerts", headers=auth,
                               params={"limit": "2", "cursor": page["next_cursor"]}).json
    assert [a["created_at"] for a in page["items"] + more["items"]] == [3000, 2000, 1000]
    assert client.simulate_get("/v1/alerts", headers=bob).json["items"] == []


class _Pages:
    """The shop's answers, one per check, from the extraction corpus."""

    def __init__(self, *pages: tuple[int, str]) -> None:
        self._pages = list(pages)

    async def fetch(self, url: str) -> FetchResult:
        status, name = self._pages.pop(0)
        body = (CORPUS / name).read_bytes()
        if status != 200:
            return FetchResult(url, "blocked", status, body, "Cloudflare challenge")
        return FetchResult(url, "ok", 200, body, content_type="text/html")


class _NoAlerts:
    async def deliver(self, alert, item) -> dict[str, str]:
        raise AssertionError("no alert expected: the prices stay above the target")


def test_items_show_the_last_checks_outcome_and_the_first_price(dynamo_app):
    client, engine, _, _, _ = dynamo_app
    tokens = sign_in(client)
    user_id, auth = tokens["user"]["id"], {"Authorization": f"Bearer {tokens['access_token']}"}
    item = client.simulate_post("/v1/items", headers=auth, json={
        "url": "https://www.technikhaus-beispiel.de/p/laptop-15-123456", "target_price": "9.99",
        "currency": "EUR"}).json
    assert {k: item[k] for k in ("last_outcome", "last_reason", "last_attempt_at",
                                 "first_price", "first_price_at")} == dict.fromkeys(
        ("last_outcome", "last_reason", "last_attempt_at", "first_price", "first_price_at"))
    checks = CheckService(engine, _Pages((403, "50-blocked-cloudflare.html"),
                                         (200, "01-jsonld-offer-de.html"),
                                         (200, "02-jsonld-graph-fr.html"),
                                         (403, "50-blocked-cloudflare.html")),
                          _NoAlerts(), None, CheckPolicy(), "w1")

    def check() -> dict:
        asyncio.run(checks.check(item["id"], user_id))
        return client.simulate_get(f"/v1/items/{item['id']}", headers=auth).json

    blocked = check()
    assert (blocked["last_outcome"], blocked["current_price"], blocked["first_price"]) == (
        "blocked", None, None)
    assert blocked["last_reason"] == "Cloudflare challenge" and blocked["last_attempt_at"]
    first = check()  # corpus 01: 1299.99 EUR
    assert (first["last_outcome"], first["last_reason"], first["current_price"],
            first["first_price"]) == ("ok", None, "1299.99", "1299.99")
    assert first["first_price_at"] == first["last_checked"] == first["last_attempt_at"]
    second = check()  # corpus 02: 849.00 EUR; the first price stays
    assert (second["current_price"], second["first_price"], second["first_price_at"]) == (
        "849.00", "1299.99", first["first_price_at"])
    again_blocked = check()  # a blocked check keeps the last price and says it was blocked
    assert (again_blocked["last_outcome"], again_blocked["current_price"],
            again_blocked["last_checked"]) == ("blocked", "849.00", second["last_checked"])
