"""Auto-buy orders: idempotent per crossing, monthly cap, confirmation window, webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from decimal import Decimal

import httpx
import pytest

from autobuy.engine.orders import OrderError, OrderPolicy, OrderService, PurchaseWebhook
from autobuy.engine.store import MemoryEngineStore, Order

from tests.app.support.doubles import Clock, Purchaser

NOW = 1_764_000_000  # 2025-11-24


def service(cap: str = "500", accept: bool = True):  # noqa: ANN201
    store = MemoryEngineStore()
    clock = Clock(NOW)
    purchaser = Purchaser(accept)
    svc = OrderService(store, purchaser, OrderPolicy(monthly_cap=Decimal(cap),
                                                     confirmation_seconds=600), clock)
    return svc, store, clock, purchaser


def intent(svc: OrderService, crossing: int = 1, price: str = "100", item: str = "i1",
           checked_at: int = NOW, **kw):  # noqa: ANN003, ANN201
    return svc.create_intent(user_id="u1", item_id=item, crossing=crossing, price=Decimal(price),
                             currency="EUR", checked_at=checked_at, **kw)


def test_same_crossing_creates_one_order() -> None:
    svc, store, _, _ = service()
    first = intent(svc)
    again = intent(svc)
    assert first is not None and again is not None and first.order_id == again.order_id
    assert len(store.list_for_user("u1")) == 1
    assert store.spend[("u1", "2025-11", "EUR")] == Decimal("100")
    assert intent(svc, crossing=2).order_id != first.order_id


def test_concurrent_creation_for_one_crossing_is_idempotent() -> None:
    svc, store, _, _ = service()
    threads = [threading.Thread(target=intent, args=(svc,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.list_for_user("u1")) == 1
    assert store.spend[("u1", "2025-11", "EUR")] == Decimal("100")


def test_stale_check_creates_no_order() -> None:
    svc, store, _, _ = service()
    assert intent(svc, checked_at=NOW - 3600) is None
    assert store.list_for_user("u1") == []


def test_monthly_cap_rejects_and_is_recorded() -> None:
    svc, store, _, _ = service(cap="250")
    assert intent(svc, 1, "100", "a").state == "pending"
    assert intent(svc, 1, "100", "b").state == "pending"
    rejected = intent(svc, 1, "100", "c")
    assert rejected.state == "rejected" and "cap" in rejected.history[-1][2]
    svc.cancel("u1", intent(svc, 1, "100", "a").order_id)  # frees 100
    assert intent(svc, 1, "100", "d").state == "pending"


def test_confirm_places_through_the_purchaser() -> None:
    svc, store, _, purchaser = service()
    order = intent(svc)
    placed = svc.confirm("u1", order.order_id)
    assert placed.state == "placed"
    assert [h[1] for h in placed.history] == ["pending", "confirmed", "placed"]
    assert purchaser.placed == ["i1:1"]
    with pytest.raises(OrderError):
        svc.confirm("u1", order.order_id)
    with pytest.raises(OrderError):
        svc.cancel("u1", order.order_id)


def test_refused_purchase_fails_and_gives_the_money_back() -> None:
    svc, store, _, _ = service(accept=False)
    order = svc.confirm("u1", intent(svc).order_id)
    assert order.state == "failed"
    assert store.spend[("u1", "2025-11", "EUR")] == Decimal("0")


def test_confirmation_window_expires() -> None:
    svc, store, clock, purchaser = service()
    order = intent(svc)
    clock.now += 601
    with pytest.raises(OrderError, match="window"):
        svc.confirm("u1", order.order_id)
    assert store.get("u1", order.order_id).state == "expired" and purchaser.placed == []
    other = intent(svc, crossing=2, checked_at=int(clock.now))
    clock.now += 601
    assert [o.order_id for o in svc.expire_due()] == [other.order_id]


def test_auto_confirm_skips_the_window() -> None:
    svc, _, _, purchaser = service()
    assert intent(svc, auto_confirm=True).state == "placed"
    assert purchaser.placed == ["i1:1"]


def test_unknown_order_is_not_found() -> None:
    svc, *_ = service()
    with pytest.raises(LookupError):
        svc.confirm("u1", "ord_missing")


def test_purchase_webhook_is_signed_retried_and_idempotent() -> None:
    seen: list[httpx.Request] = []
    answers = iter([503, 502, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(next(answers))

    secret = b"whsec-test-secret-value"
    hook = PurchaseWebhook("https://buy.example/orders", secret,
                           client=httpx.Client(transport=httpx.MockTransport(handler)),
                           retries=3, sleep=lambda s: None)
    order = Order("u1", "ord_1", "i1", 1, "i1:1", Decimal("99.90"), "EUR", "confirmed", NOW, NOW)
    accepted, note = hook.place(order)
    assert accepted and "200" in note and len(seen) == 3
    assert {r.headers["Idempotency-Key"] for r in seen} == {"i1:1"}
    sig = seen[-1].headers["X-AutoBuy-Signature"]
    ts, v1 = (part.split("=", 1)[1] for part in sig.split(","))
    expected = hmac.new(secret, ts.encode() + b"." + seen[-1].content, hashlib.sha256).hexdigest()
    assert v1 == expected
    assert json.loads(seen[-1].content)["price"] == "99.90"


def test_purchase_webhook_does_not_retry_a_refusal() -> None:
    calls = []
    hook = PurchaseWebhook("https://buy.example/orders", b"secret-secret-secret",
                           client=httpx.Client(transport=httpx.MockTransport(
                               lambda r: calls.append(r) or httpx.Response(422))),
                           sleep=lambda s: None)
    order = Order("u1", "ord_1", "i1", 1, "i1:1", Decimal("1"), "EUR", "confirmed", NOW, NOW)
    assert hook.place(order) == (False, "purchase webhook answered HTTP 422") and len(calls) == 1


def test_order_json_shape_for_the_api() -> None:
    from autobuy.engine.orders import order_json

    svc, *_ = service()
    body = order_json(intent(svc))
    assert body["state"] == "pending" and body["price"] == "100" and body["item_id"] == "i1"
    assert body["history"][0]["state"] == "pending" and body["confirm_before"] > NOW
    json.dumps(body)
