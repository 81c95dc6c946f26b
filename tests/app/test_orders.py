"""Auto-buy orders and alerts through the HTTP API (engine stores in memory)."""
from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import falcon.testing
import pytest
from autobuy.app import create_app
from autobuy.engine.alerts import AlertEvent
from autobuy.engine.orders import OrderPolicy, OrderService
from autobuy.engine.store import MemoryEngineStore, Order, StoredAlert
from pydantic import ValidationError

from tests.app import helpers
from tests.app.conftest import sign_in


class RecordingPurchaser:
    def __init__(self, accept: bool = True) -> None:
        self.accept = accept
        self.placed: list[Order] = []

    def place(self, order: Order) -> tuple[bool, str]:
        self.placed.append(order)
        return self.accept, "accepted by test" if self.accept else "refused by test"


def intent(store: MemoryEngineStore, user_id: str, crossing: int, *, price: str = "49.99",
           checked_at: int | None = None, policy: OrderPolicy = OrderPolicy()) -> Order:
    service = OrderService(store, RecordingPurchaser(), policy)
    order = service.create_intent(user_id=user_id, item_id="item-1", crossing=crossing,
                                  price=Decimal(price), currency="EUR",
                                  checked_at=checked_at or int(time.time()))
    assert order is not None
    return order


@pytest.fixture
def purchaser() -> RecordingPurchaser:
    return RecordingPurchaser()


@pytest.fixture
def app_client(settings, stores, purchaser) -> falcon.testing.TestClient:
    stores.purchaser = purchaser
    return falcon.testing.TestClient(create_app(settings, stores=stores))


@pytest.fixture
def ana(app_client) -> tuple[str, dict[str, str]]:
    tokens = sign_in(app_client)
    return tokens["user"]["id"], {"Authorization": f"Bearer {tokens['access_token']}"}


def test_orders_listed_newest_first_and_paginated(app_client, stores, ana):
    user_id, auth = ana
    assert app_client.simulate_get("/v1/orders", headers=auth).json == {"items": [], "next_cursor": None}
    made = []
    for crossing in range(1, 4):
        made.append(intent(stores.engine, user_id, crossing))
    first = app_client.simulate_get("/v1/orders", headers=auth, params={"limit": "2"}).json
    rest = app_client.simulate_get("/v1/orders", headers=auth,
                                   params={"limit": "2", "cursor": first["next_cursor"]}).json
    assert len(first["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    listed = first["items"] + rest["items"]
    assert {o["id"] for o in listed} == {o.order_id for o in made}
    assert [(o["created_at"], o["id"]) for o in listed] == sorted(
        ((o["created_at"], o["id"]) for o in listed), reverse=True)
    assert listed[0]["state"] == "pending" and listed[0]["price"] == "49.99"
    assert listed[0]["history"][0]["state"] == "pending"


@pytest.mark.parametrize("cursor", ["!!", "bm90LWEtY3Vyc29y", "MTIzOnh5eg"])
def test_orders_bad_cursor_is_400(app_client, ana, cursor):
    result = app_client.simulate_get("/v1/orders", headers=ana[1], params={"cursor": cursor})
    assert result.status_code == 400 and "cursor" in result.json["error"]["detail"]


def test_confirm_places_the_order_through_the_purchaser(app_client, stores, ana, purchaser):
    user_id, auth = ana
    order = intent(stores.engine, user_id, 1)
    result = app_client.simulate_post(f"/v1/orders/{order.order_id}/confirm", headers=auth)
    assert result.status_code == 200, result.text
    assert result.json["state"] == "placed"
    assert [h["state"] for h in result.json["history"]] == ["pending", "confirmed", "placed"]
    assert [o.order_id for o in purchaser.placed] == [order.order_id]
    again = app_client.simulate_post(f"/v1/orders/{order.order_id}/confirm", headers=auth)
    assert again.status_code == 409 and "placed" in again.json["error"]["detail"]
    assert app_client.simulate_post(f"/v1/orders/{order.order_id}/cancel",
                                    headers=auth).status_code == 409
    assert len(purchaser.placed) == 1


def test_cancel_then_confirm_is_409(app_client, stores, ana, purchaser):
    user_id, auth = ana
    order = intent(stores.engine, user_id, 2)
    cancelled = app_client.simulate_post(f"/v1/orders/{order.order_id}/cancel", headers=auth)
    assert cancelled.status_code == 200 and cancelled.json["state"] == "cancelled"
    again = app_client.simulate_post(f"/v1/orders/{order.order_id}/cancel", headers=auth)
    assert again.status_code == 409 and "cancelled" in again.json["error"]["detail"]
    confirm = app_client.simulate_post(f"/v1/orders/{order.order_id}/confirm", headers=auth)
    assert confirm.status_code == 409 and not purchaser.placed


def test_confirm_after_the_window_expires_the_order(app_client, stores, ana, purchaser):
    user_id, auth = ana
    order = intent(stores.engine, user_id, 3, checked_at=int(time.time()),
                   policy=OrderPolicy(confirmation_seconds=-1))
    result = app_client.simulate_post(f"/v1/orders/{order.order_id}/confirm", headers=auth)
    assert result.status_code == 409 and "window" in result.json["error"]["detail"]
    assert stores.engine.get(user_id, order.order_id).state == "expired" and not purchaser.placed


def test_another_users_order_is_404(app_client, stores, ana, purchaser):
    user_id, auth = ana
    order = intent(stores.engine, user_id, 4)
    bob = {"Authorization": f"Bearer {sign_in(app_client, 'bob@example.com')['access_token']}"}
    for action in ("confirm", "cancel"):
        result = app_client.simulate_post(f"/v1/orders/{order.order_id}/{action}", headers=bob)
        assert result.status_code == 404 and result.json["error"]["detail"] == "no such order"
    missing = app_client.simulate_post("/v1/orders/ord_000000000000000000000000/confirm", headers=auth)
    assert missing.status_code == 404
    assert app_client.simulate_get("/v1/orders", headers=bob).json["items"] == []
    assert stores.engine.get(user_id, order.order_id).state == "pending" and not purchaser.placed


def test_order_routes_need_a_token(app_client):
    assert app_client.simulate_get("/v1/orders").status_code == 401
    assert app_client.simulate_post("/v1/orders/ord_x/confirm").status_code == 401
    assert app_client.simulate_get("/v1/alerts").status_code == 401


def test_without_a_webhook_a_confirmed_order_fails_and_gives_the_spend_back(settings, stores):
    client = falcon.testing.TestClient(create_app(settings, stores=stores))  # no purchaser, no URL
    tokens = sign_in(client)
    user_id, auth = tokens["user"]["id"], {"Authorization": f"Bearer {tokens['access_token']}"}
    order = intent(stores.engine, user_id, 5, price="500")
    result = client.simulate_post(f"/v1/orders/{order.order_id}/confirm", headers=auth)
    assert result.status_code == 200 and result.json["state"] == "failed"
    assert "no purchase webhook configured" in result.json["history"][-1]["note"]
    assert intent(stores.engine, user_id, 6, price="500").state == "pending"  # cap released


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, list[tuple[dict, bytes]]]]:
    received: list[tuple[dict, bytes]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/purchase", received
    server.shutdown()


def test_confirm_posts_a_signed_purchase_webhook_from_the_settings(google_keys, stores,
                                                                   webhook_receiver):
    url, received = webhook_receiver
    secret = "purchase-secret-for-tests-0123"
    settings = helpers.settings(google_jwks_url=google_keys.url, purchase_webhook_url=url,
                                purchase_webhook_secret=secret)
    client = falcon.testing.TestClient(create_app(settings, stores=stores))
    tokens = sign_in(client)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    order = intent(stores.engine, tokens["user"]["id"], 7)
    result = client.simulate_post(f"/v1/orders/{order.order_id}/confirm", headers=auth)
    assert result.status_code == 200 and result.json["state"] == "placed"
    (headers, body), = received
    assert headers["Idempotency-Key"] == order.idempotency_key
    assert json.loads(body)["orderId"] == order.order_id
    stamp, mac = (part.split("=", 1)[1] for part in headers["X-AutoBuy-Signature"].split(","))
    assert mac == hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("overrides,needle", [
    ({"purchase_webhook_url": "https://buy.example.net/hook"}, "AUTOBUY_PURCHASE_WEBHOOK_SECRET"),
    ({"purchase_webhook_url": "ftp://buy.example.net/hook", "purchase_webhook_secret": "s" * 32},
     "http(s)"),
    ({"env": "production", "dev_signin": False, "db_password": "a-real-db-password-1234",
      "purchase_webhook_url": "http://buy.example.net/hook", "purchase_webhook_secret": "s" * 32},
     "https"),
    ({"env": "production", "dev_signin": False, "db_password": "a-real-db-password-1234",
      "purchase_webhook_url": "https://buy.example.net/hook", "purchase_webhook_secret": "changeme"},
     "AUTOBUY_PURCHASE_WEBHOOK_SECRET"),
])
def test_purchase_webhook_settings_are_checked(overrides, needle):
    with pytest.raises(ValidationError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        helpers.settings(**overrides)


def _alert(user_id: str, at: int, kind: str = "price") -> StoredAlert:
    return StoredAlert(user_id, f"{at:012d}-item-1-{kind}-1", "item-1", at,
                       AlertEvent(kind, Decimal("9.5"), "EUR", 1), {"sns": "sent"})


def test_alerts_are_user_scoped_newest_first_and_paginated(app_client, stores, ana):
    user_id, auth = ana
    for at in (100, 300, 200):
        stores.engine.add_alert(_alert(user_id, at))
    stores.engine.add_alert(_alert("someone-else", 400))
    first = app_client.simulate_get("/v1/alerts", headers=auth, params={"limit": "2"}).json
    rest = app_client.simulate_get("/v1/alerts", headers=auth,
                                   params={"limit": "2", "cursor": first["next_cursor"]}).json
    assert [a["created_at"] for a in first["items"] + rest["items"]] == [300, 200, 100]
    assert rest["next_cursor"] is None
    assert first["items"][0] == {"id": "000000000300-item-1-price-1", "item_id": "item-1",
                                 "kind": "price", "price": "9.50", "currency": "EUR",
                                 "crossing": 1, "created_at": 300, "deliveries": {"sns": "sent"}}
    assert app_client.simulate_get("/v1/alerts", headers=auth,
                                   params={"cursor": "%%%"}).status_code == 400
