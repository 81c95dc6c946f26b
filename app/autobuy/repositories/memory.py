"""In-memory repositories: the fakes for unit tests (thread-safe, same contracts)."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from autobuy.errors import BadInput, Conflict, LimitReached
from autobuy.models import Billing, BillingChange, Item, Page, PricePoint, RefreshRecord, User
from autobuy.repositories.base import (
    BillingRepository,
    CheckQueue,
    ItemRepository,
    RefreshTokenRepository,
    UserRepository,
)


class MemoryUserRepository(UserRepository):
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self._lock = threading.Lock()
        self.down = False

    def upsert(self, *, email: str, name: str | None, google_id: str | None) -> User:
        with self._lock:
            found = next((u for u in self.users.values()
                          if (google_id and u.google_id == google_id) or u.email == email), None)
            if found is None:
                found = User(id=str(uuid.uuid4()), email=email, name=name, google_id=google_id,
                             tier="free", created_at=datetime.now(UTC).replace(tzinfo=None))
            else:
                found = replace(found, email=email, name=name or found.name,
                                google_id=google_id or found.google_id)
            self.users[found.id] = found
            return found

    def get(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def set_tier(self, user_id: str, tier: str) -> None:
        self.users[user_id] = replace(self.users[user_id], tier=tier)

    def ping(self) -> None:
        if self.down:
            raise ConnectionError("mysql down")


class MemoryRefreshTokenRepository(RefreshTokenRepository):
    def __init__(self) -> None:
        self.tokens: dict[str, RefreshRecord] = {}
        self._lock = threading.Lock()

    def add(self, *, token_hash: str, user_id: str, family_id: str, expires_at: datetime) -> None:
        self.tokens[token_hash] = RefreshRecord(token_hash, user_id, family_id, expires_at, False, False)

    def get(self, token_hash: str) -> RefreshRecord | None:
        return self.tokens.get(token_hash)

    def mark_used(self, token_hash: str) -> bool:
        with self._lock:
            record = self.tokens[token_hash]
            if record.used:
                return False
            self.tokens[token_hash] = replace(record, used=True)
            return True

    def revoke_family(self, family_id: str) -> int:
        with self._lock:
            hit = [h for h, r in self.tokens.items() if r.family_id == family_id]
            for h in hit:
                self.tokens[h] = replace(self.tokens[h], revoked=True)
            return len(hit)


class MemoryBillingRepository(BillingRepository):
    def __init__(self, users: MemoryUserRepository) -> None:
        self._users = users
        self.rows: dict[str, Billing] = {}
        self.events: set[str] = set()
        self._lock = threading.Lock()

    def get(self, user_id: str) -> Billing | None:
        return self.rows.get(user_id)

    def find_user_by_customer(self, stripe_customer_id: str) -> str | None:
        return next((b.user_id for b in self.rows.values()
                     if b.stripe_customer_id == stripe_customer_id), None)

    def apply_event(self, event_id: str, event_type: str, change: BillingChange | None,
                    mirror: Callable[[User], None] | None = None) -> bool:
        with self._lock:
            if event_id in self.events:
                return False
            self.events.add(event_id)
            if change is None or self._users.get(change.user_id) is None:
                return True
            old = self.rows.get(change.user_id) or Billing(
                user_id=change.user_id, stripe_customer_id=None, stripe_subscription_id=None,
                status=None, tier="", amount=None, currency=None, current_period_end=None,
                updated_at=None)
            new = replace(old, **change.updates())
            self.rows[change.user_id] = replace(
                new, status=new.status or "incomplete",
                tier=new.tier or self._users.get(change.user_id).tier,
                updated_at=datetime.now(UTC).replace(tzinfo=None))
            self._users.set_tier(change.user_id, self.rows[change.user_id].tier)
            if mirror is not None:
                mirror(self._users.get(change.user_id))  # under the lock, as the SQL one
            return True


class MemoryItemRepository(ItemRepository):
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Item] = {}
        self.counts: dict[str, int] = {}
        self.history_rows: dict[str, list[PricePoint]] = {}
        self.mirror: dict[str, User] = {}
        self._lock = threading.Lock()
        self.down = False

    def create(self, item: Item, *, item_limit: int) -> None:
        with self._lock:
            existing = self.items.get((item.user_id, item.item_id))
            if existing is not None:
                if existing == item:
                    return  # idempotent, like the DynamoDB repository
                raise Conflict("an item with this id exists")
            if self.counts.get(item.user_id, 0) >= item_limit:
                raise LimitReached(f"your tier allows {item_limit} tracked items")
            self.counts[item.user_id] = self.counts.get(item.user_id, 0) + 1
            self.items[(item.user_id, item.item_id)] = item

    def get(self, user_id: str, item_id: str) -> Item | None:
        return self.items.get((user_id, item_id))

    @staticmethod
    def _page(rows: list, limit: int, cursor: str | None) -> Page:
        if cursor is not None and not cursor.isdigit():
            raise BadInput("cursor is not valid")
        start = int(cursor) if cursor else 0
        end = start + limit
        return Page(rows[start:end], str(end) if end < len(rows) else None)

    def list(self, user_id: str, *, limit: int, cursor: str | None) -> Page:
        rows = sorted((i for (u, _), i in self.items.items() if u == user_id),
                      key=lambda i: (i.last_checked, i.item_id), reverse=True)
        return self._page(rows, limit, cursor)

    def update(self, user_id: str, item_id: str, changes: dict) -> Item | None:
        with self._lock:
            item = self.items.get((user_id, item_id))
            if item is None:
                return None
            item = replace(item, **changes)
            self.items[(user_id, item_id)] = item
            return item

    def delete(self, user_id: str, item_id: str) -> bool:
        with self._lock:
            if self.items.pop((user_id, item_id), None) is None:
                return False
            self.counts[user_id] -= 1
            return True

    def count(self, user_id: str) -> int:
        return self.counts.get(user_id, 0)

    def history(self, item_id: str, *, limit: int, cursor: str | None) -> Page:
        rows = sorted(self.history_rows.get(item_id, []), key=lambda p: p.checked_at, reverse=True)
        return self._page(rows, limit, cursor)

    def request_check(self, user_id: str, item_id: str, now: int) -> bool:
        return self.update(user_id, item_id, {"next_check_at": now, "check_requested_at": now}) is not None

    def sync_user(self, user: User) -> None:
        self.mirror[user.id] = user

    def ping(self) -> None:
        if self.down:
            raise ConnectionError("dynamodb down")


class MemoryCheckQueue(CheckQueue):
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def enqueue(self, user_id: str, item_id: str) -> None:
        self.sent.append((user_id, item_id))
