"""What the engine needs from storage, behind interfaces, with an in-memory fake.

The DynamoDB implementation is ``autobuy.engine.dynamo_store`` (rows as the contract,
``autobuy.contract``, defines them); tests, the worker benchmark and in-memory apps use
:class:`MemoryEngineStore`.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from decimal import Decimal

from autobuy.contract import due_shard
from autobuy.engine.alerts import AlertEvent, AlertRule, AlertState

__all__ = [
    "CheckRecord", "EngineItem", "EngineStore", "MemoryEngineStore", "Order", "OrderStore",
    "StoredAlert",
]


@dataclass(frozen=True, slots=True)
class EngineItem:
    """The engine's view of a tracked item (a subset of the API's ``autobuy_items`` row)."""

    item_id: str
    user_id: str
    url: str
    rule: AlertRule
    alert: AlertState
    auto_buy: bool = False
    status: str = "active"
    next_check_at: int = 0
    last_checked: int = 0
    current_price: Decimal | None = None
    availability: str | None = None
    fail_streak: int = 0
    lease_until: int = 0
    lease_owner: str | None = None


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """One finished check, written atomically with the item's new state."""

    checked_at: int
    outcome: str  # ok | blocked | failed
    price: Decimal | None
    currency: str | None
    availability: str | None
    source: str | None
    reason: str | None
    next_check_at: int
    alert: AlertState
    history_expires_at: int | None = None


@dataclass(frozen=True, slots=True)
class StoredAlert:
    user_id: str
    alert_id: str
    item_id: str
    created_at: int
    event: AlertEvent
    deliveries: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Order:
    """An auto-buy order intent; ``history`` holds every state change (at, state, note)."""

    user_id: str
    order_id: str
    item_id: str
    crossing: int
    idempotency_key: str
    price: Decimal
    currency: str
    state: str
    created_at: int
    expires_at: int
    history: tuple[tuple[int, str, str], ...] = ()


class EngineStore(ABC):
    """Items, history, alerts and tiers as the check pipeline uses them."""

    @abstractmethod
    def due_items(self, shard: str, now: int, limit: int) -> list[tuple[str, str, int]]:
        """(item_id, user_id, next_check_at) of ``shard``'s items with nextCheckAt <= now."""

    @abstractmethod
    def postpone(self, item_id: str, user_id: str, expected_next: int, new_next: int) -> bool:
        """Move nextCheckAt from ``expected_next`` to ``new_next``; False if it changed."""

    @abstractmethod
    def get_item(self, item_id: str, user_id: str) -> EngineItem | None: ...

    @abstractmethod
    def claim(self, item_id: str, user_id: str, owner: str, now: int, lease_seconds: int) -> bool:
        """Take the item's check lease unless another unexpired lease holds it."""

    @abstractmethod
    def release(self, item_id: str, user_id: str, owner: str) -> bool:
        """Give the lease back (a check that failed midway), if ``owner`` still holds it, so
        the message's redelivery can check the item instead of skipping it."""

    @abstractmethod
    def record_check(self, item: EngineItem, owner: str, record: CheckRecord) -> bool:
        """Atomically: history row (ok checks with a price or availability), item update,
        lease release. False when ``owner`` no longer holds the lease (nothing written)."""

    @abstractmethod
    def add_alert(self, alert: StoredAlert) -> None: ...

    @abstractmethod
    def set_alert_deliveries(self, user_id: str, alert_id: str,
                             deliveries: dict[str, str]) -> None: ...

    @abstractmethod
    def user_tier(self, user_id: str) -> str: ...


class OrderStore(ABC):
    """Orders plus the per-user monthly spend counter (race-free cap)."""

    @abstractmethod
    def put_if_absent(self, order: Order) -> bool:
        """Store a new order; False when its order id exists (idempotent creation)."""

    @abstractmethod
    def get(self, user_id: str, order_id: str) -> Order | None: ...

    @abstractmethod
    def list_for_user(self, user_id: str) -> list[Order]: ...

    @abstractmethod
    def transition(self, order: Order, expected_state: str, new_state: str, at: int,
                   note: str) -> Order | None:
        """Change state if it is still ``expected_state``; the updated order or None."""

    @abstractmethod
    def pending_before(self, now: int) -> list[Order]:
        """Pending orders whose confirmation window ended before ``now``."""

    @abstractmethod
    def reserve_spend(self, user_id: str, month: str, currency: str, amount: Decimal,
                      cap: Decimal) -> bool:
        """Add ``amount`` to the month's spend unless that would exceed ``cap``."""

    @abstractmethod
    def release_spend(self, user_id: str, month: str, currency: str, amount: Decimal) -> None: ...


class MemoryEngineStore(EngineStore, OrderStore):
    """In-memory fake of both stores (thread-safe), for unit tests and benchmarks."""

    def __init__(self, tiers: dict[str, str] | None = None) -> None:
        self.items: dict[tuple[str, str], EngineItem] = {}
        self.history: dict[str, list[CheckRecord]] = {}
        self.alerts: dict[tuple[str, str], StoredAlert] = {}
        self.orders: dict[tuple[str, str], Order] = {}
        self.spend: dict[tuple[str, str, str], Decimal] = {}
        self.tiers = dict(tiers or {})
        self._lock = threading.Lock()

    def add_item(self, item: EngineItem) -> None:
        with self._lock:
            self.items[(item.item_id, item.user_id)] = item

    # -- EngineStore ------------------------------------------------------------------
    def due_items(self, shard: str, now: int, limit: int) -> list[tuple[str, str, int]]:
        with self._lock:
            due = sorted((i.next_check_at, i.item_id, i.user_id) for i in self.items.values()
                         if i.status == "active" and i.next_check_at <= now
                         and due_shard(i.item_id) == shard)
        return [(item_id, user_id, at) for at, item_id, user_id in due[:limit]]

    def postpone(self, item_id: str, user_id: str, expected_next: int, new_next: int) -> bool:
        with self._lock:
            item = self.items.get((item_id, user_id))
            if item is None or item.next_check_at != expected_next:
                return False
            self.items[(item_id, user_id)] = replace(item, next_check_at=new_next)
            return True

    def get_item(self, item_id: str, user_id: str) -> EngineItem | None:
        with self._lock:
            return self.items.get((item_id, user_id))

    def claim(self, item_id: str, user_id: str, owner: str, now: int, lease_seconds: int) -> bool:
        with self._lock:
            item = self.items.get((item_id, user_id))
            if item is None or item.lease_until > now:
                return False
            self.items[(item_id, user_id)] = replace(item, lease_until=now + lease_seconds,
                                                     lease_owner=owner)
            return True

    def release(self, item_id: str, user_id: str, owner: str) -> bool:
        with self._lock:
            item = self.items.get((item_id, user_id))
            if item is None or item.lease_owner != owner:
                return False
            self.items[(item_id, user_id)] = replace(item, lease_until=0, lease_owner=None)
            return True

    def record_check(self, item: EngineItem, owner: str, record: CheckRecord) -> bool:
        key = (item.item_id, item.user_id)
        with self._lock:
            current = self.items.get(key)
            if current is None or current.lease_owner != owner:
                return False
            ok = record.outcome == "ok"
            self.items[key] = replace(
                current, next_check_at=record.next_check_at, alert=record.alert,
                last_checked=record.checked_at if ok else current.last_checked,
                current_price=record.price if ok and record.price is not None
                else current.current_price,
                availability=record.availability if ok and record.availability
                else current.availability,
                fail_streak=0 if ok else current.fail_streak + 1,
                lease_until=0, lease_owner=None)
            if ok and (record.price is not None or record.availability is not None):
                self.history.setdefault(item.item_id, []).append(record)
            return True

    def add_alert(self, alert: StoredAlert) -> None:
        with self._lock:
            self.alerts[(alert.user_id, alert.alert_id)] = alert

    def set_alert_deliveries(self, user_id: str, alert_id: str,
                             deliveries: dict[str, str]) -> None:
        with self._lock:
            alert = self.alerts[(user_id, alert_id)]
            self.alerts[(user_id, alert_id)] = replace(alert, deliveries=dict(deliveries))

    def user_tier(self, user_id: str) -> str:
        return self.tiers.get(user_id, "free")

    def alerts_page(self, user_id: str, limit: int,
                    after: str | None = None) -> tuple[list[StoredAlert], str | None]:
        """A user's alerts newest first (alert ids sort by time); ``after`` = last id seen."""
        with self._lock:
            ids = sorted((a for (u, a) in self.alerts if u == user_id and
                          (after is None or a < after)), reverse=True)
            page = [self.alerts[(user_id, a)] for a in ids[:limit]]
        return page, (page[-1].alert_id if len(ids) > limit else None)

    # -- OrderStore -------------------------------------------------------------------
    def put_if_absent(self, order: Order) -> bool:
        with self._lock:
            key = (order.user_id, order.order_id)
            if key in self.orders:
                return False
            self.orders[key] = order
            return True

    def get(self, user_id: str, order_id: str) -> Order | None:
        with self._lock:
            return self.orders.get((user_id, order_id))

    def list_for_user(self, user_id: str) -> list[Order]:
        with self._lock:
            return sorted((o for (u, _), o in self.orders.items() if u == user_id),
                          key=lambda o: (o.created_at, o.order_id), reverse=True)

    def transition(self, order: Order, expected_state: str, new_state: str, at: int,
                   note: str) -> Order | None:
        with self._lock:
            key = (order.user_id, order.order_id)
            current = self.orders.get(key)
            if current is None or current.state != expected_state:
                return None
            updated = replace(current, state=new_state,
                              history=(*current.history, (at, new_state, note)))
            self.orders[key] = updated
            return updated

    def pending_before(self, now: int) -> list[Order]:
        with self._lock:
            return [o for o in self.orders.values() if o.state == "pending" and o.expires_at < now]

    def reserve_spend(self, user_id: str, month: str, currency: str, amount: Decimal,
                      cap: Decimal) -> bool:
        with self._lock:
            key = (user_id, month, currency)
            spent = self.spend.get(key, Decimal(0))
            if spent + amount > cap:
                return False
            self.spend[key] = spent + amount
            return True

    def release_spend(self, user_id: str, month: str, currency: str, amount: Decimal) -> None:
        with self._lock:
            key = (user_id, month, currency)
            self.spend[key] = self.spend.get(key, Decimal(0)) - amount
