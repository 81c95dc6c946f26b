"""Abstract repositories. Services depend on these, never on a database client."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from autobuy.models import Billing, BillingChange, Item, Page, RefreshRecord, User


class UserRepository(ABC):
    @abstractmethod
    def upsert(self, *, email: str, name: str | None, google_id: str | None) -> User:
        """Find the user by Google id (or e-mail) and update, or create one."""

    @abstractmethod
    def get(self, user_id: str) -> User | None: ...

    @abstractmethod
    def ping(self) -> None:
        """Raise when the store cannot be reached."""


class RefreshTokenRepository(ABC):
    @abstractmethod
    def add(self, *, token_hash: str, user_id: str, family_id: str, expires_at: datetime) -> None: ...

    @abstractmethod
    def get(self, token_hash: str) -> RefreshRecord | None: ...

    @abstractmethod
    def mark_used(self, token_hash: str) -> bool:
        """Mark an unused token used; False when it was already used (atomic)."""

    @abstractmethod
    def revoke_family(self, family_id: str) -> int: ...


class BillingRepository(ABC):
    @abstractmethod
    def get(self, user_id: str) -> Billing | None: ...

    @abstractmethod
    def find_user_by_customer(self, stripe_customer_id: str) -> str | None: ...

    @abstractmethod
    def apply_event(self, event_id: str, event_type: str, change: BillingChange | None,
                    mirror: Callable[[User], None] | None = None) -> bool:
        """In one transaction: record the event id, update billing and the user's tier.

        ``mirror(user)``, when given, is called with the user as the change leaves them,
        inside that transaction, while the user's row is locked: two events of one user
        (Stripe delivers them concurrently) then write their mirrors in the order their
        changes commit, so an older state never overwrites a newer one. An exception from
        it undoes the change (the event is answered with an error and delivered again).

        Returns False (and changes nothing) when the event was processed before.
        """


class ItemRepository(ABC):
    @abstractmethod
    def create(self, item: Item, *, item_limit: int) -> None:
        """Store a new item unless the user already has ``item_limit`` items (race-free)."""

    @abstractmethod
    def get(self, user_id: str, item_id: str) -> Item | None: ...

    @abstractmethod
    def list(self, user_id: str, *, limit: int, cursor: str | None) -> Page: ...

    @abstractmethod
    def update(self, user_id: str, item_id: str, changes: dict) -> Item | None: ...

    @abstractmethod
    def delete(self, user_id: str, item_id: str) -> bool: ...

    @abstractmethod
    def count(self, user_id: str) -> int: ...

    @abstractmethod
    def history(self, item_id: str, *, limit: int, cursor: str | None) -> Page: ...

    @abstractmethod
    def request_check(self, user_id: str, item_id: str, now: int) -> bool: ...

    @abstractmethod
    def sync_user(self, user: User) -> None:
        """Mirror the user's e-mail and tier into the autobuy_users table (for the engine)."""

    @abstractmethod
    def ping(self) -> None: ...


class CheckQueue(Protocol):
    """Where "check now" requests go: the engine's ``SqsChecksQueue`` (the one client of
    the checks queue), ``NoCheckQueue``, or a fake."""

    def enqueue(self, user_id: str, item_id: str) -> None: ...
