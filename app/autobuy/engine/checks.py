"""One price check, end to end: lease, fetch, extract, alert rules, record, notify, order.

``CheckService.check(item_id, user_id)`` is what a worker runs for each queue message.
At most one check per item is in flight across all instances: the item's lease is a
conditional write, and the result is written only while that lease is still held
(history row + item update in one transaction). Blocked and failed checks never
produce a price, an alert or an order; they only push the next check back.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from autobuy.config import TierLimits, default_tiers
from autobuy.engine.alerts import AlertEvent, Observation, evaluate
from autobuy.engine.extract import extract
from autobuy.engine.fetch import FetchResult
from autobuy.engine.orders import OrderService
from autobuy.engine.store import CheckRecord, EngineItem, EngineStore, StoredAlert

__all__ = ["BOT_CHECK_PAGE", "NO_PRICE_ON_PAGE", "CheckPolicy", "CheckService", "Notifier",
           "PageFetcher", "observe", "tier_history_days", "tier_intervals"]

log = logging.getLogger("autobuy.engine.checks")

#: The reasons :func:`observe` gives for a page that was fetched but shows no price.
BOT_CHECK_PAGE = "bot-check page"
NO_PRICE_ON_PAGE = "no price on the page"


class PageFetcher(Protocol):
    async def fetch(self, url: str) -> FetchResult: ...


class Notifier(Protocol):
    async def deliver(self, alert: StoredAlert, item: EngineItem) -> dict[str, str]:
        """Deliver on every configured channel; {channel: "sent" | "failed: ..."}."""


def tier_intervals(tiers: Mapping[str, TierLimits]) -> dict[str, int]:
    """Each tier's check interval in seconds (its ``check_interval_minutes``)."""
    return {name: limits.check_interval_minutes * 60 for name, limits in tiers.items()}


def tier_history_days(tiers: Mapping[str, TierLimits]) -> dict[str, int]:
    """How many days each tier's price history is kept (its ``history_days``)."""
    return {name: limits.history_days for name, limits in tiers.items()}


@dataclass(frozen=True)
class CheckPolicy:
    """Intervals per tier (seconds), jitter, leases, back-off and history retention.

    The per-tier values come from the tiers' settings (``AUTOBUY_TIERS``, the same the
    API shows as limits): build it with :meth:`from_tiers`; the defaults are those of
    the default tiers.
    """

    intervals: dict[str, int] = field(default_factory=lambda: tier_intervals(default_tiers()))
    history_days: dict[str, int] = field(
        default_factory=lambda: tier_history_days(default_tiers()))
    jitter: float = 0.1
    lease_seconds: int = 300
    failure_retry_seconds: int = 60
    blocked_backoff_seconds: int = 30 * 60
    max_backoff_seconds: int = 6 * 3600
    auto_confirm: bool = False

    @classmethod
    def from_tiers(cls, tiers: Mapping[str, TierLimits], **options: Any) -> CheckPolicy:
        """The policy of these tiers; ``options`` set the other fields."""
        return cls(intervals=tier_intervals(tiers), history_days=tier_history_days(tiers),
                   **options)


def observe(fetched: FetchResult) -> tuple[Observation, str | None, str | None]:
    """What a check saw on a fetched page: (observation, source, reason).

    The outcome is ``ok`` (a price or an availability), ``blocked`` (a bot wall, from the
    fetch or recognised in the page) or ``failed`` (the fetch failed, or the page shows
    neither price nor availability); ``reason`` says why for the latter two. The API's
    preview (``autobuy.services.preview``) reads a page the same way.
    """
    if fetched.outcome != "ok":
        return Observation(fetched.outcome, None, None, None), None, fetched.reason
    found = extract(fetched.body, fetched.url)
    if found.source == "blocked":
        return Observation("blocked", None, None, None), "blocked", BOT_CHECK_PAGE
    if found.price is None and found.availability is None:
        return Observation("failed", None, None, None), found.source, NO_PRICE_ON_PAGE
    return Observation("ok", found.price, found.currency, found.availability), found.source, None


@dataclass(frozen=True)
class CheckService:
    """Runs checks against an :class:`EngineStore` with a fetcher, notifier and orders."""

    store: EngineStore
    fetcher: PageFetcher
    notifier: Notifier
    orders: OrderService | None  # None: no auto-buy (alerts only)
    policy: CheckPolicy
    owner: str  # this worker's name on the leases it takes
    clock: Callable[[], float] = time.time  # epoch seconds

    async def check(self, item_id: str, user_id: str) -> str:
        """Check one item; returns ok | blocked | failed | skipped."""
        now = int(self.clock())
        item = self.store.get_item(item_id, user_id)
        if item is None:
            return "skipped"
        if item.status != "active":
            # Paused: look again at the tier's cadence (re-activation needs no API help).
            interval = self.policy.intervals.get(self.store.user_tier(user_id),
                                                  self.policy.intervals["free"])
            self.store.postpone(item_id, user_id, item.next_check_at, now + interval)
            return "skipped"
        if not self.store.claim(item_id, user_id, self.owner, now,
                                 self.policy.lease_seconds):
            return "skipped"
        try:
            return await self._checked(item, user_id)
        except Exception:
            # Midway failure (DynamoDB, the notifier, a bug): the worker leaves the message
            # on the queue; give the lease back so its redelivery checks instead of skipping.
            try:
                self.store.release(item_id, user_id, self.owner)
            except Exception:  # noqa: BLE001 - the store is down too: the lease runs out
                log.warning("could not release the lease of item %s", item_id)
            raise

    async def _checked(self, item: EngineItem, user_id: str) -> str:
        item_id = item.item_id
        fetched = await self.fetcher.fetch(item.url)
        seen, source, reason = observe(fetched)
        checked_at = int(self.clock())
        tier = self.store.user_tier(user_id)
        state, events = evaluate(item.rule, item.alert, seen)
        record = CheckRecord(
            checked_at=checked_at, outcome=seen.outcome, price=seen.price, currency=seen.currency,
            availability=seen.availability, source=source, reason=reason,
            next_check_at=self._next_check(item, tier, seen.outcome, checked_at), alert=state,
            history_expires_at=checked_at + 86400 * self.policy.history_days.get(
                tier, self.policy.history_days["free"]))
        if not self.store.record_check(item, self.owner, record):
            log.warning("lease lost for item %s; result dropped", item_id)
            return "skipped"
        for event in events:
            await self._alert(item, event, checked_at, tier)
        return seen.outcome

    def _next_check(self, item: EngineItem, tier: str, outcome: str, now: int) -> int:
        interval = self.policy.intervals.get(tier, self.policy.intervals["free"])
        if outcome == "ok":
            spread = 1 + random.uniform(-self.policy.jitter, self.policy.jitter)
            return now + max(1, int(interval * spread))
        base = (self.policy.blocked_backoff_seconds if outcome == "blocked"
                else self.policy.failure_retry_seconds)
        delay = min(base * 2 ** min(item.fail_streak, 10), self.policy.max_backoff_seconds)
        return now + int(delay if outcome == "blocked" else min(delay, interval))

    async def _alert(self, item: EngineItem, event: AlertEvent, checked_at: int,
                     tier: str) -> None:
        marker = event.crossing if event.crossing is not None else checked_at
        alert = StoredAlert(user_id=item.user_id,
                            alert_id=f"{checked_at:012d}-{item.item_id}-{event.kind}-{marker}",
                            item_id=item.item_id, created_at=checked_at, event=event)
        self.store.add_alert(alert)
        deliveries = await self.notifier.deliver(alert, item)
        self.store.set_alert_deliveries(item.user_id, alert.alert_id, deliveries)
        if (self.orders is not None and event.crossing is not None and item.auto_buy
                and tier == "ultra" and event.price is not None and event.currency):
            self.orders.create_intent(
                user_id=item.user_id, item_id=item.item_id, crossing=event.crossing,
                price=event.price, currency=event.currency, checked_at=checked_at,
                auto_confirm=self.policy.auto_confirm)
