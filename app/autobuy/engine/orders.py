"""Guarded auto-buy: order intents with idempotency, a monthly cap and a confirmation window.

Life of an order (every change appended to its history):

    pending --confirm--> confirmed --purchase webhook ok--> placed
       |                      \\--webhook failed after retries--> failed
       |--cancel--> cancelled
       \\--window ends--> expired
    (cap exceeded at creation: rejected)

* Only a price crossing seen by a *fresh, successful* check of an ultra-tier item with
  auto-buy on creates an intent. Its idempotency key is ``<itemId>:<crossing>``, the
  order id is derived from it, and creation is a conditional put: a redelivered queue
  message or a second worker cannot create a second order for the same crossing.
* The monthly spend cap is reserved with a conditional counter before the order
  exists (race-free); cancelled, expired, failed orders give the amount back.
* ``auto_confirm`` skips the window (the user opted in).
* The purchase webhook is signed (HMAC-SHA256 over ``timestamp.body``), carries the
  idempotency key, and is retried with backoff (see :class:`PurchaseWebhook`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Protocol

import httpx

from autobuy.engine.store import Order, OrderStore

__all__ = ["NoPurchaser", "OrderError", "OrderPolicy", "OrderService", "PurchaseWebhook",
           "Purchaser",
           "order_id_for", "order_json", "sign"]

ACTIVE_STATES = frozenset({"pending", "confirmed", "placed"})


class OrderError(ValueError):
    """A confirm/cancel that the order's state does not allow (shown to the user)."""


@dataclass(frozen=True)
class OrderPolicy:
    monthly_cap: Decimal = Decimal("500")
    confirmation_seconds: int = 15 * 60
    max_check_age_seconds: int = 10 * 60


class Purchaser(Protocol):
    def place(self, order: Order) -> tuple[bool, str]:
        """Send a confirmed order; (accepted, note)."""


class NoPurchaser:
    """No purchase webhook configured: a confirmed order fails with a note saying so."""

    def place(self, order: Order) -> tuple[bool, str]:
        return False, "no purchase webhook configured (AUTOBUY_PURCHASE_WEBHOOK_URL)"


def order_id_for(idempotency_key: str) -> str:
    return "ord_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


def _month(at: int) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m")


def order_json(order: Order) -> dict[str, object]:
    """The API representation (``GET /v1/orders``, confirm, cancel)."""
    return {"id": order.order_id, "item_id": order.item_id, "crossing": order.crossing,
            "price": str(order.price), "currency": order.currency, "state": order.state,
            "created_at": order.created_at, "confirm_before": order.expires_at,
            "history": [{"at": at, "state": state, "note": note}
                        for at, state, note in order.history]}


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """``t=<ts>,v1=<hex hmac-sha256(secret, "<ts>." + body)>`` (Stripe's scheme)."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class OrderService:
    """Creates, confirms, cancels, expires and places orders over an :class:`OrderStore`."""

    def __init__(self, store: OrderStore, purchaser: Purchaser, policy: OrderPolicy,
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._purchaser = purchaser
        self._policy = policy
        self._clock = clock

    def create_intent(self, *, user_id: str, item_id: str, crossing: int, price: Decimal,
                      currency: str, checked_at: int, auto_confirm: bool = False) -> Order | None:
        """The order for this crossing (existing one if any); None when the check is stale."""
        now = int(self._clock())
        if now - checked_at > self._policy.max_check_age_seconds:
            return None
        key = f"{item_id}:{crossing}"
        order_id = order_id_for(key)
        existing = self._store.get(user_id, order_id)
        if existing is not None:
            return existing
        month = _month(now)
        reserved = self._store.reserve_spend(user_id, month, currency, price,
                                             self._policy.monthly_cap)
        state, note = ("pending", "awaiting confirmation") if reserved else (
            "rejected", f"monthly spend cap of {self._policy.monthly_cap} {currency} reached")
        order = Order(user_id=user_id, order_id=order_id, item_id=item_id, crossing=crossing,
                      idempotency_key=key, price=price, currency=currency, state=state,
                      created_at=now, expires_at=now + self._policy.confirmation_seconds,
                      history=((now, state, note),))
        if not self._store.put_if_absent(order):
            if reserved:
                self._store.release_spend(user_id, month, currency, price)
            return self._store.get(user_id, order_id)
        if reserved and auto_confirm:
            return self.confirm(user_id, order_id, note="auto-confirmed")
        return order

    def confirm(self, user_id: str, order_id: str, note: str = "confirmed by user") -> Order:
        order = self._require(user_id, order_id)
        now = int(self._clock())
        if order.state == "pending" and order.expires_at < now:
            self._expire(order, now)
            raise OrderError("the confirmation window has ended")
        confirmed = self._store.transition(order, "pending", "confirmed", now, note)
        if confirmed is None:
            raise OrderError(f"order is {order.state}, only pending orders can be confirmed")
        accepted, detail = self._purchaser.place(confirmed)
        final = self._store.transition(confirmed, "confirmed", "placed" if accepted else "failed",
                                       int(self._clock()), detail)
        if not accepted:
            self._give_back(confirmed)
        return final or confirmed

    def cancel(self, user_id: str, order_id: str) -> Order:
        order = self._require(user_id, order_id)
        cancelled = self._store.transition(order, "pending", "cancelled", int(self._clock()),
                                           "cancelled by user")
        if cancelled is None:
            raise OrderError(f"order is {order.state}, only pending orders can be cancelled")
        self._give_back(order)
        return cancelled

    def expire_due(self) -> list[Order]:
        """Expire pending orders whose window ended; returns them."""
        now = int(self._clock())
        return [o for o in (self._expire(order, now) for order in self._store.pending_before(now))
                if o is not None]

    def _expire(self, order: Order, now: int) -> Order | None:
        expired = self._store.transition(order, "pending", "expired", now,
                                         "confirmation window ended")
        if expired is not None:
            self._give_back(order)
        return expired

    def _give_back(self, order: Order) -> None:
        self._store.release_spend(order.user_id, _month(order.created_at), order.currency,
                                  order.price)

    def _require(self, user_id: str, order_id: str) -> Order:
        order = self._store.get(user_id, order_id)
        if order is None:
            raise LookupError("order not found")
        return order


class PurchaseWebhook:
    """POSTs confirmed orders to the configured purchase endpoint: signed, retried, idempotent.

    The receiver must treat ``Idempotency-Key`` as the order's identity (a retry after a
    lost response is the same order). 2xx = accepted; 4xx = refused (not retried);
    network errors and 5xx are retried ``retries`` times with exponential backoff.
    """

    def __init__(self, url: str, secret: bytes, *, client: httpx.Client | None = None,
                 retries: int = 3, backoff: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not secret:
            raise ValueError("the purchase webhook needs a signing secret")
        self._url = url
        self._secret = secret
        self._client = client or httpx.Client(timeout=10.0, trust_env=False)
        self._retries = retries
        self._backoff = backoff
        self._sleep = sleep

    def place(self, order: Order) -> tuple[bool, str]:
        body = json.dumps({"orderId": order.order_id, "userId": order.user_id,
                           "itemId": order.item_id, "price": str(order.price),
                           "currency": order.currency}, separators=(",", ":")).encode()
        for attempt in range(self._retries + 1):
            timestamp = int(time.time())
            headers = {"Content-Type": "application/json",
                       "Idempotency-Key": order.idempotency_key,
                       "X-AutoBuy-Signature": sign(self._secret, timestamp, body)}
            try:
                response = self._client.post(self._url, content=body, headers=headers)
            except httpx.TransportError as exc:
                note = f"purchase webhook unreachable: {type(exc).__name__}"
            else:
                if response.is_success:
                    return True, f"purchase webhook accepted (HTTP {response.status_code})"
                note = f"purchase webhook answered HTTP {response.status_code}"
                if response.status_code < 500:
                    return False, note
            if attempt < self._retries:
                self._sleep(self._backoff * 2 ** attempt)
        return False, note
