"""Stripe billing: Checkout sessions and the subscription webhook."""
from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import stripe

from autobuy.config import Settings
from autobuy.errors import BadInput, DependencyFailed, InvalidInput
from autobuy.models import Billing, BillingChange, User
from autobuy.repositories.base import BillingRepository, ItemRepository, UserRepository

log = logging.getLogger("autobuy.billing")

PAID_STATUSES = {"active", "trialing"}
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


class StripeGateway(PaymentGateway):
    def __init__(self, secret_key: str) -> None:
        self._client = stripe.StripeClient(secret_key, max_network_retries=2)

    def create_checkout_session(self, *, user_id: str, email: str, customer_id: str | None,
                                price_id: str, success_url: str, cancel_url: str) -> CheckoutSession:
        params: dict[str, Any] = {
            "mode": "subscription", "line_items": [{"price": price_id, "quantity": 1}],
            "client_reference_id": user_id, "success_url": success_url, "cancel_url": cancel_url,
            "subscription_data": {"metadata": {"user_id": user_id}},
            "metadata": {"user_id": user_id},
        }
        if customer_id:
            params["customer"] = customer_id
        else:
            params["customer_email"] = email
        try:
            session = self._client.v1.checkout.sessions.create(params=params)
        except stripe.StripeError as exc:
            raise DependencyFailed(f"Stripe refused the checkout ({type(exc).__name__})") from None
        return CheckoutSession(session.id, session.url or "")


def verify_webhook(payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """Check Stripe's ``Stripe-Signature`` (HMAC-SHA256, 5-minute tolerance) and parse."""
    if not signature:
        raise BadInput("missing Stripe-Signature header")
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, secret, tolerance=300)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
        raise BadInput("the webhook signature is not valid") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) \
            or not isinstance(event.get("type"), str) \
            or not isinstance(event.get("data", {}).get("object"), dict):
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
        applied = self._billing.apply_event(event["id"], event["type"], change)
        if applied and change is not None:
            user = self._users.get(change.user_id)
            if user is not None:
                self._items.sync_user(user)
        log.info("stripe event", extra={"event_type": event["type"], "duplicate": not applied})
        return applied

    def _user_of(self, obj: dict[str, Any]) -> str | None:
        user_id = (obj.get("metadata") or {}).get("user_id") or obj.get("client_reference_id")
        if isinstance(user_id, str) and self._users.get(user_id) is not None:
            return user_id
        customer = obj.get("customer")
        return self._billing.find_user_by_customer(customer) if isinstance(customer, str) else None

    def _current(self, user_id: str) -> tuple[str, str | None]:
        user = self._users.get(user_id)
        billing = self._billing.get(user_id)
        return (user.tier if user else "free"), (billing.status if billing else None)

    def _change_for(self, event_type: str, obj: dict[str, Any]) -> BillingChange | None:
        user_id = self._user_of(obj)
        if user_id is None:
            log.warning("stripe event for an unknown user", extra={"event_type": event_type})
            return None
        customer = obj.get("customer") if isinstance(obj.get("customer"), str) else None
        if event_type == "checkout.session.completed":
            tier, status = self._current(user_id)
            return BillingChange(user_id=user_id, tier=tier, status=status or "incomplete",
                                 stripe_customer_id=customer)
        if event_type in SUBSCRIPTION_EVENTS:
            return self._subscription_change(user_id, customer, obj)
        if event_type == "customer.subscription.deleted":
            return BillingChange(user_id=user_id, tier="free", status="canceled",
                                 stripe_customer_id=customer, stripe_subscription_id=obj.get("id"))
        if event_type == "invoice.payment_failed":
            return BillingChange(user_id=user_id, tier="free", status="past_due",
                                 stripe_customer_id=customer)
        return None

    def _subscription_change(self, user_id: str, customer: str | None,
                             sub: dict[str, Any]) -> BillingChange | None:
        items = (sub.get("items") or {}).get("data") or []
        price = (items[0].get("price") or {}) if items else {}
        tier = self._settings.stripe_prices.get(price.get("id"))
        if tier is None:
            log.warning("stripe subscription with an unknown price", extra={"price": price.get("id")})
            return None
        status = STATUS_MAP.get(sub.get("status"), "incomplete")
        amount = price.get("unit_amount")
        currency = price.get("currency")
        return BillingChange(
            user_id=user_id, tier=tier if status in PAID_STATUSES else "free", status=status,
            stripe_customer_id=customer, stripe_subscription_id=sub.get("id"),
            amount=(Decimal(int(amount)) / 100) if isinstance(amount, int) else None,
            currency=currency.upper() if isinstance(currency, str) else None,
            current_period_end=_period_end(sub))
