"""Sign-in (Google, development), token refresh with rotation, and sign-out."""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from autobuy.errors import AuthFailed
from autobuy.models import User
from autobuy.repositories.base import ItemRepository, RefreshTokenRepository, UserRepository
from autobuy.services.tokens import (
    AccessTokens,
    IdTokenVerifier,
    hash_refresh_token,
    new_refresh_token,
)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User

    def as_json(self) -> dict:
        return {"access_token": self.access_token, "token_type": "Bearer",
                "expires_in": self.expires_in, "refresh_token": self.refresh_token,
                "user": {"id": self.user.id, "email": self.user.email, "tier": self.user.tier}}


class AuthService:
    def __init__(self, *, users: UserRepository, refresh_tokens: RefreshTokenRepository,
                 items: ItemRepository, access: AccessTokens, google: IdTokenVerifier,
                 refresh_days: int, clock: Callable[[], float] = time.time) -> None:
        self._users = users
        self._refresh = refresh_tokens
        self._items = items
        self._access = access
        self._google = google
        self._refresh_ttl = timedelta(days=refresh_days)
        self._clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _issue(self, user: User, family_id: str | None = None) -> TokenPair:
        token = new_refresh_token()
        self._refresh.add(token_hash=hash_refresh_token(token), user_id=user.id,
                          family_id=family_id or str(uuid.uuid4()),
                          expires_at=self._now() + self._refresh_ttl)
        return TokenPair(self._access.issue(user.id), token, self._access.ttl, user)

    def google_identity(self, id_token: str):
        return self._google.verify(id_token)

    def sign_in_google(self, identity) -> TokenPair:
        user = self._users.upsert(email=identity.email, name=identity.name, google_id=identity.sub)
        self._items.sync_user(user)
        return self._issue(user)

    def sign_in_dev(self, email: str) -> TokenPair:
        user = self._users.upsert(email=email, name=None, google_id=None)
        self._items.sync_user(user)
        return self._issue(user)

    def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the presented token is spent; reusing a spent one revokes its family."""
        token_hash = hash_refresh_token(refresh_token)
        record = self._refresh.get(token_hash)
        if record is None or record.revoked:
            raise AuthFailed("the refresh token is not valid")
        if record.used or not self._refresh.mark_used(token_hash):
            self._refresh.revoke_family(record.family_id)
            raise AuthFailed("the refresh token was already used; this session is signed out")
        if record.expires_at <= self._now():
            raise AuthFailed("the refresh token has expired")
        user = self._users.get(record.user_id)
        if user is None:
            raise AuthFailed("the refresh token is not valid")
        return self._issue(user, record.family_id)

    def logout(self, refresh_token: str) -> None:
        record = self._refresh.get(hash_refresh_token(refresh_token))
        if record is not None:
            self._refresh.revoke_family(record.family_id)

    def user_for_access_token(self, token: str) -> str:
        return self._access.verify(token)
