"""Plain domain records passed between repositories, services and resources."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str | None
    google_id: str | None
    tier: str
    created_at: datetime


@dataclass(frozen=True)
class Billing:
    user_id: str
    stripe_customer_id: str | None
    stripe_subscription_id: str | None
    status: str | None
    tier: str
    amount: Decimal | None
    currency: str | None
    current_period_end: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True)
class BillingChange:
    """What one Stripe event changes of a user's :class:`Billing`: the Stripe customer it
    names, and the subscription's state unless the event says nothing of it (a completed
    checkout). None = leave as is."""

    user_id: str
    stripe_customer_id: str | None = None
    subscription: SubscriptionState | None = None

    def updates(self) -> dict[str, Any]:
        """The :class:`Billing` fields this change sets, with their new values."""
        values: dict[str, Any] = {"stripe_customer_id": self.stripe_customer_id}
        if (sub := self.subscription) is not None:
            values.update(tier=sub.tier, status=sub.status,
                          stripe_subscription_id=sub.stripe_subscription_id, amount=sub.amount,
                          currency=sub.currency, current_period_end=sub.current_period_end)
        return {name: value for name, value in values.items() if value is not None}


#: The subscription statuses in which a subscription gives its plan's tier; in any other
#: its user is on the free tier.
PAID_STATUSES: Final = frozenset({"active", "trialing"})


@dataclass(frozen=True)
class SubscriptionState:
    """A subscription's state as one Stripe event reports it: its status always; its plan's
    tier, its id, price and period where the event has them (None = leave as is)."""

    status: str
    plan_tier: str | None = None
    stripe_subscription_id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    current_period_end: datetime | None = None

    @property
    def tier(self) -> str:
        """The tier the subscription gives: its plan's while it is paid, else free."""
        return self.plan_tier if self.plan_tier and self.status in PAID_STATUSES else "free"


@dataclass(frozen=True)
class RefreshRecord:
    token_hash: str
    user_id: str
    family_id: str
    expires_at: datetime
    used: bool
    revoked: bool


@dataclass(frozen=True)
class Item:
    item_id: str
    user_id: str
    url: str
    title: str | None
    target_price: Decimal
    currency: str
    auto_buy: bool
    status: str
    created_at: int
    updated_at: int
    last_checked: int = 0
    next_check_at: int = 0
    current_price: Decimal | None = None
    availability: str | None = None
    check_requested_at: int | None = None
    # Alert options read by the engine (alerts.AlertRule): a drop of N % below the
    # highest price seen while armed, and out of stock -> in stock.
    alert_drop_percent: Decimal | None = None
    alert_back_in_stock: bool = False
    # Written by the engine only (read here, never written by the API): the last check's
    # outcome (ok | blocked | failed), why it was not ok, and when it ran; the first price
    # a check found on the item's page and when ("change since tracking").
    last_outcome: str | None = None
    last_reason: str | None = None
    last_attempt_at: int | None = None
    first_price: Decimal | None = None
    first_price_at: int | None = None


@dataclass(frozen=True)
class PricePoint:
    checked_at: int
    price: Decimal | None
    currency: str | None
    availability: str | None
    source: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of results plus the opaque cursor of the next page (None at the end)."""

    items: list = field(default_factory=list)
    next_cursor: str | None = None
