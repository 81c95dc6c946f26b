"""Stripe billing: Checkout sessions and the subscription webhook."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from autobuy.config import Settings
from autobuy.errors import BadInput, DependencyFailed, InvalidInput
from autobuy.models import Billing, BillingChange, SubscriptionState, User
from autobuy.repositories.base import BillingRepository, ItemRepository, UserRepository

log = logging.getLogger("autobuy.billing")

STATUS_MAP = {"active": "active", "trialing": "trialing", "past_due": "past_due",
              "unpaid": "unpaid", "canceled": "canceled", "incomplete": "incomplete",
              "incomplete_expired": "canceled", "paused": "canceled"}
SUBSCRIPTION_EVENTS = ("customer.subscription.created", "customer.subscription.updated")


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


class PaymentGateway(ABC):
    """The Stripe API as the app uses it (a fake replaces it in tests)."""

    @abstractmethod
    def create_checkout_session(self, *, user_id: str, email: str, customer_id: str | None,
                                price_id: str, success_url: str, cancel_url: str) -> CheckoutSession: ...


class StripeUnreachable(DependencyFailed):
    """Stripe did not answer (network error, timeout, 5xx after the retries)."""


def stripe_failure(exc: BaseException) -> str | None:
    """Why a Stripe call failed for a dependency reason (a 4xx refusal is not one)."""
    return "not reachable or failing" if isinstance(exc, StripeUnreachable) else None


class StripeGateway(PaymentGateway):
    """Stripe's REST API over httpx (the Stripe SDK is large and slow to import).

    Creates Checkout sessions with ``POST /v1/checkout/sessions`` (form-encoded, as the
    API expects) and an idempotency key, with a short timeout and retries on 5xx/network.
    """

    API = "https://api.stripe.com"

    def __init__(self, secret_key: str, *, api_url: str = API, timeout: float = 10,
                 attempts: int = 3) -> None:
        self._secret_key = secret_key
        self._url = api_url.rstrip("/") + "/v1/checkout/sessions"
        self._timeout = timeout
        self._attempts = attempts

    def create_checkout_session(self, *, user_id: str, email: str, customer_id: str | None,
                                price_id: str, success_url: str, cancel_url: str) -> CheckoutSession:
        import httpx

        form = {
            "mode": "subscription", "line_items[0][price]": price_id, "line_items[0][quantity]": "1",
            "client_reference_id": user_id, "success_url": success_url, "cancel_url": cancel_url,
            "subscription_data[metadata][user_id]": user_id, "metadata[user_id]": user_id,
        }
        form.update({"customer": customer_id} if customer_id else {"customer_email": email})
        headers = {"Authorization": f"Bearer {self._secret_key}", "Idempotency-Key": str(uuid.uuid4()),
                   "Stripe-Version": "2024-06-20"}
        for attempt in range(self._attempts):
            try:
                response = httpx.post(self._url, data=form, headers=headers, timeout=self._timeout)
            except httpx.HTTPError:
                if attempt + 1 == self._attempts:
                    raise StripeUnreachable("Stripe could not be reached") from None
                time.sleep(0.5 * 2 ** attempt)
                continue
            if response.status_code >= 500:
                if attempt + 1 == self._attempts:
                    raise StripeUnreachable(f"Stripe failed (HTTP {response.status_code})")
                time.sleep(0.5 * 2 ** attempt)
                continue
            if response.status_code != 200:
                raise DependencyFailed(f"Stripe refused the checkout (HTTP {response.status_code})")
            body = response.json()
            return CheckoutSession(str(body["id"]), str(body.get("url") or ""))
        raise StripeUnreachable("Stripe could not be reached")


SIGNATURE_TOLERANCE = 300


def verify_signature(payload: bytes, header: str, secret: str, *, now: float | None = None,
                     tolerance: int = SIGNATURE_TOLERANCE) -> None:
    """Stripe's webhook signature scheme, as documented by Stripe.

    ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`` where each ``v1`` may be
    HMAC-SHA256(secret, "<t>.<payload>"); the timestamp must be within ``tolerance`` s.
    Raises BadInput otherwise. (tests/app/test_billing.py checks it agrees with the SDK.)
    """
    pairs = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in pairs if key.strip() == "t"]
    candidates = [value.strip() for key, value in pairs if key.strip() == "v1"]
    if len(timestamps) != 1 or not timestamps[0].strip().isdigit() or not candidates:
        raise BadInput("the webhook signature is not valid")
    timestamp = int(timestamps[0])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise BadInput("the webhook signature is not valid")
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise BadInput("the webhook signature is too old")


def verify_webhook(payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """Check the ``Stripe-Signature`` header, then parse the event."""
    if not signature:
        raise BadInput("missing Stripe-Signature header")
    verify_signature(payload, signature, secret)
    try:
        event = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        raise BadInput("the webhook body is not a Stripe event") from None
    data = event.get("data") if isinstance(event, dict) else None
    if not (isinstance(event, dict) and isinstance(event.get("id"), str)
            and isinstance(event.get("type"), str) and isinstance(data, dict)
            and isinstance(data.get("object"), dict)):
        raise BadInput("the webhook body is not a Stripe event")
    return event


def _period_end(sub: dict[str, Any]) -> datetime | None:
    value = sub.get("current_period_end")
    if value is None:
        items = sub.get("items", {}).get("data") or [{}]
        value = items[0].get("current_period_end")
    return datetime.fromtimestamp(int(value), UTC).replace(tzinfo=None) if value else None


class BillingService:
    def __init__(self, *, billing: BillingRepository, users: UserRepository, items: ItemRepository,
                 gateway: PaymentGateway, settings: Settings) -> None:
        self._billing = billing
        self._users = users
        self._items = items
        self._gateway = gateway
        self._settings = settings

    def checkout(self, user: User, tier: Any) -> CheckoutSession:
        prices = {t: p for p, t in self._settings.stripe_prices.items()}
        if not isinstance(tier, str) or tier not in prices:
            raise InvalidInput("tier: must be pro or ultra")
        current = self._billing.get(user.id)
        return self._gateway.create_checkout_session(
            user_id=user.id, email=user.email,
            customer_id=current.stripe_customer_id if current else None, price_id=prices[tier],
            success_url=self._settings.checkout_success_url, cancel_url=self._settings.checkout_cancel_url)

    def get(self, user: User) -> Billing | None:
        return self._billing.get(user.id)

    def handle_webhook(self, payload: bytes, signature: str | None) -> bool:
        """Process a verified event once. Returns False for a replay (nothing changes)."""
        event = verify_webhook(payload, signature, self._settings.stripe_webhook_secret.get_secret_value())
        change = self._change_for(event["type"], event["data"]["object"])
        # The users mirror (the engine reads the tier there) is written with the change,
        # under the user's lock: concurrent events of one user cannot leave an older tier.
        applied = self._billing.apply_event(event["id"], event["type"], change,
                                            mirror=self._items.sync_user)
        log.info("stripe event", extra={"event_type": event["type"], "duplicate": not applied})
        return applied

    def _user_of(self, obj: dict[str, Any]) -> str | None:
        user_id = (obj.get("metadata") or {}).get("user_id") or obj.get("client_reference_id")
        if isinstance(user_id, str) and self._users.get(user_id) is not None:
            return user_id
        customer = obj.get("customer")
        return self._billing.find_user_by_customer(customer) if isinstance(customer, str) else None

    def _change_for(self, event_type: str, obj: dict[str, Any]) -> BillingChange | None:
        user_id = self._user_of(obj)
        if user_id is None:
            log.warning("stripe event for an unknown user", extra={"event_type": event_type})
            return None
        customer = obj.get("customer") if isinstance(obj.get("customer"), str) else None
        if event_type == "checkout.session.completed":
            # Only the customer: the subscription's own events set tier and status. Stripe
            # does not order its events, so reading the current tier here and writing it back
            # would undo a subscription event applied in between (a paid upgrade lost).
            return BillingChange(user_id=user_id, stripe_customer_id=customer)
        if event_type in SUBSCRIPTION_EVENTS:
            return self._subscription_change(user_id, customer, obj)
        if event_type == "customer.subscription.deleted":
            return BillingChange(user_id, customer, SubscriptionState(
                status="canceled", stripe_subscription_id=obj.get("id")))
        if event_type == "invoice.payment_failed":
            return BillingChange(user_id, customer, SubscriptionState(status="past_due"))
        return None

    def _subscription_change(self, user_id: str, customer: str | None,
                             sub: dict[str, Any]) -> BillingChange | None:
        items = (sub.get("items") or {}).get("data") or []
        price = (items[0].get("price") or {}) if items else {}
        tier = self._settings.stripe_prices.get(price.get("id"))
        if tier is None:
            log.warning("stripe subscription with an unknown price", extra={"price": price.get("id")})
            return None
        amount = price.get("unit_amount")
        currency = price.get("currency")
        return BillingChange(user_id, customer, SubscriptionState(
            status=STATUS_MAP.get(sub.get("status"), "incomplete"), plan_tier=tier,
            stripe_subscription_id=sub.get("id"),
            amount=(Decimal(int(amount)) / 100) if isinstance(amount, int) else None,
            currency=currency.upper() if isinstance(currency, str) else None,
            current_period_end=_period_end(sub)))
