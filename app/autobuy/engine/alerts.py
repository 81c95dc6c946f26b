"""Alert rules: fire once per crossing, re-arm when the price goes back above target.

Pure functions over small frozen records, so the rules are tested without any store:

* a price alert fires when a *successful* check sees a price (in the item's currency,
  and not out of stock) at or below the target, or a drop of ``drop_percent`` below the
  reference price (the highest price seen while armed);
* after firing the rule is disarmed; it re-arms only when a successful check sees the
  price above the target again — so a price that stays low alerts once, and a price
  that bounces alerts once per bounce; each firing increments ``crossing`` (the
  auto-buy idempotency key is item + crossing);
* back-in-stock fires on the transition out_of_stock -> in_stock/preorder;
* blocked and failed checks change nothing (no alert, no re-arm).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the records stay free of the fetcher's imports (httpx)
    from autobuy.engine.fetch import Outcome

__all__ = ["AlertEvent", "AlertRule", "AlertState", "Observation", "evaluate"]


@dataclass(frozen=True, slots=True)
class AlertRule:
    """What the user asked for on one item."""

    target_price: Decimal | None
    currency: str
    drop_percent: Decimal | None = None
    back_in_stock: bool = False


@dataclass(frozen=True, slots=True)
class AlertState:
    """Per-item alert memory, stored with the item."""

    armed: bool = True
    crossing: int = 0
    reference_price: Decimal | None = None
    last_availability: str | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """One check's result as the alert rules see it."""

    outcome: Outcome
    price: Decimal | None
    currency: str | None
    availability: str | None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An alert to record and deliver; ``crossing`` is set for price alerts."""

    kind: Literal["price", "drop", "back_in_stock"]
    price: Decimal | None
    currency: str | None
    crossing: int | None


def _price_met(rule: AlertRule, state: AlertState,
               seen: Observation) -> Literal["price", "drop"] | None:
    if seen.price is None or seen.currency != rule.currency or seen.availability == "out_of_stock":
        return None
    if rule.target_price is not None and seen.price <= rule.target_price:
        return "price"
    if rule.drop_percent is not None and state.reference_price is not None:
        threshold = state.reference_price * (Decimal(100) - rule.drop_percent) / Decimal(100)
        if seen.price <= threshold:
            return "drop"
    return None


def evaluate(rule: AlertRule, state: AlertState,
             seen: Observation) -> tuple[AlertState, list[AlertEvent]]:
    """The item's next alert state and the alerts this observation fires."""
    if seen.outcome != "ok":
        return state, []
    events: list[AlertEvent] = []
    if (rule.back_in_stock and state.last_availability == "out_of_stock"
            and seen.availability in ("in_stock", "preorder")):
        events.append(AlertEvent("back_in_stock", seen.price, seen.currency, None))
    if seen.availability is not None:
        state = replace(state, last_availability=seen.availability)
    if seen.price is None or seen.currency != rule.currency:
        return state, events
    met = _price_met(rule, state, seen)
    if met and state.armed:
        crossing = state.crossing + 1
        events.append(AlertEvent(met, seen.price, seen.currency, crossing))
        return replace(state, armed=False, crossing=crossing), events
    if state.armed:
        reference = max(state.reference_price or seen.price, seen.price)
        return replace(state, reference_price=reference), events
    # Disarmed: re-arm only once the price is back above the target (stock aside), so a
    # low price that goes out of stock and comes back is still the same crossing.
    if _price_met(rule, state, replace(seen, availability=None)) is None:
        return replace(state, armed=True, reference_price=seen.price), events
    return state, events
