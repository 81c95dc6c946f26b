"""MySQL repositories (SQLAlchemy 2): users, refresh tokens, billing and Stripe events."""
from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from autobuy.db import BillingRow, RefreshTokenRow, StripeEventRow, UserRow
from autobuy.models import Billing, BillingChange, RefreshRecord, User
from autobuy.repositories.base import BillingRepository, RefreshTokenRepository, UserRepository


_T = TypeVar("_T")
_ATTEMPTS = 6
_DEADLOCK = 1213  # ER_LOCK_DEADLOCK: InnoDB rolled the transaction back


def _transaction(sessions: sessionmaker[Session], work: Callable[[Session], _T], *,
                 retry_duplicates: bool = False) -> _T:
    """``work(session)`` in one transaction, run again (with jittered backoff) when InnoDB
    rolled it back whole as a deadlock victim (1213) or, with ``retry_duplicates``, when a
    concurrent insert won (the next attempt finds its row). Anything else, or running out of
    attempts, is raised."""
    for attempt in range(_ATTEMPTS):
        try:
            with sessions.begin() as session:
                return work(session)
        except (IntegrityError, OperationalError) as exc:
            if isinstance(exc, IntegrityError):
                again = retry_duplicates
            else:
                args = getattr(exc.orig, "args", ())
                again = bool(args) and args[0] == _DEADLOCK
            if attempt == _ATTEMPTS - 1 or not again:
                raise
            time.sleep(random.uniform(0, 0.01 * 2 ** attempt))  # noqa: S311 - jitter, not a secret
    raise AssertionError("unreachable")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _user(row: UserRow) -> User:
    return User(id=row.id, email=row.email, name=row.name, google_id=row.google_id,
                tier=row.subscription_tier, created_at=row.created_at)


class SqlUserRepository(UserRepository):
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def upsert(self, *, email: str, name: str | None, google_id: str | None) -> User:
        # a concurrent first sign-in may win the insert: then the next attempt updates its row
        return _user(_transaction(self._sessions, lambda session: self._upsert(
            session, email=email, name=name, google_id=google_id), retry_duplicates=True))

    @staticmethod
    def _upsert(session: Session, *, email: str, name: str | None, google_id: str | None) -> UserRow:
        # Find the row without a locking read first: SELECT ... FOR UPDATE on a row that does
        # not exist takes a gap lock in InnoDB, and two sign-ins holding the same gap then
        # deadlock on their inserts. A row that exists is locked by its primary key.
        found = None
        if google_id:
            found = session.scalar(select(UserRow.id).where(UserRow.google_id == google_id))
        if found is None:
            found = session.scalar(select(UserRow.id).where(UserRow.email == email))
        row = session.get(UserRow, found, with_for_update=True) if found is not None else None
        if row is None:
            row = UserRow(id=str(uuid.uuid4()), email=email, name=name, google_id=google_id,
                          subscription_tier="free", created_at=_now(), updated_at=_now())
            session.add(row)
            session.flush()
            return row
        row.email = email
        row.name = name or row.name
        row.google_id = google_id or row.google_id
        row.updated_at = _now()
        return row

    def get(self, user_id: str) -> User | None:
        with self._sessions() as session:
            row = session.get(UserRow, user_id)
            return _user(row) if row else None

    def ping(self) -> None:
        with self._sessions() as session:
            session.execute(text("SELECT 1"))


class SqlRefreshTokenRepository(RefreshTokenRepository):
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def add(self, *, token_hash: str, user_id: str, family_id: str, expires_at: datetime) -> None:
        with self._sessions.begin() as session:
            session.add(RefreshTokenRow(token_hash=token_hash, user_id=user_id, family_id=family_id,
                                        expires_at=expires_at.astimezone(UTC).replace(tzinfo=None),
                                        used=False, revoked=False, created_at=_now()))

    def get(self, token_hash: str) -> RefreshRecord | None:
        with self._sessions() as session:
            row = session.get(RefreshTokenRow, token_hash)
            if row is None:
                return None
            return RefreshRecord(token_hash=row.token_hash, user_id=row.user_id,
                                 family_id=row.family_id,
                                 expires_at=row.expires_at.replace(tzinfo=UTC),
                                 used=row.used, revoked=row.revoked)

    def mark_used(self, token_hash: str) -> bool:
        with self._sessions.begin() as session:
            result = session.execute(update(RefreshTokenRow)
                                     .where(RefreshTokenRow.token_hash == token_hash,
                                            RefreshTokenRow.used.is_(False))
                                     .values(used=True))
            return result.rowcount == 1

    def revoke_family(self, family_id: str) -> int:
        with self._sessions.begin() as session:
            result = session.execute(update(RefreshTokenRow)
                                     .where(RefreshTokenRow.family_id == family_id)
                                     .values(revoked=True))
            return result.rowcount


def _billing(row: BillingRow) -> Billing:
    return Billing(user_id=row.user_id, stripe_customer_id=row.stripe_customer_id,
                   stripe_subscription_id=row.stripe_subscription_id, status=row.status,
                   tier=row.tier, amount=row.amount, currency=row.currency,
                   current_period_end=row.current_period_end, updated_at=row.updated_at)


class SqlBillingRepository(BillingRepository):
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def get(self, user_id: str) -> Billing | None:
        with self._sessions() as session:
            row = session.scalar(select(BillingRow).where(BillingRow.user_id == user_id))
            return _billing(row) if row else None

    def find_user_by_customer(self, stripe_customer_id: str) -> str | None:
        with self._sessions() as session:
            return session.scalar(select(BillingRow.user_id)
                                  .where(BillingRow.stripe_customer_id == stripe_customer_id))

    def apply_event(self, event_id: str, event_type: str, change: BillingChange | None,
                    mirror: Callable[[User], None] | None = None) -> bool:
        def record(session: Session) -> bool:
            session.add(StripeEventRow(event_id=event_id, event_type=event_type,
                                       processed_at=_now()))
            session.flush()  # a duplicate event id fails here, before any change
            if change is not None:
                user = self._apply(session, change)
                if user is not None and mirror is not None:
                    session.flush()
                    mirror(_user(user))  # under the user row's lock, before the commit
            return True

        try:
            return _transaction(self._sessions, record)
        except IntegrityError:
            with self._sessions() as session:
                if session.get(StripeEventRow, event_id) is not None:
                    return False
            raise

    @staticmethod
    def _apply(session: Session, change: BillingChange) -> UserRow | None:
        user = session.get(UserRow, change.user_id, with_for_update=True)
        if user is None:
            return None
        row = session.scalar(select(BillingRow).where(BillingRow.user_id == change.user_id)
                             .with_for_update())
        if row is None:
            row = BillingRow(user_id=change.user_id, created_at=_now())
            session.add(row)
        for name, value in change.updates().items():
            setattr(row, name, value)
        # a new row from an event that says nothing of the subscription (a completed checkout,
        # which Stripe may deliver before or after the subscription's own events)
        row.status = row.status or "incomplete"
        row.tier = row.tier or user.subscription_tier
        row.updated_at = _now()
        user.subscription_tier = row.tier
        user.updated_at = _now()
        return user
