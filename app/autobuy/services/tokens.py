"""Token handling: Google ID token verification, access JWTs, refresh token material."""
from __future__ import annotations

import hashlib
import re
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from autobuy.errors import AuthFailed, DependencyFailed

GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
ACCESS_ISSUER = "autobuy"
ACCESS_AUDIENCE = "autobuy-api"


@dataclass(frozen=True)
class GoogleIdentity:
    sub: str
    email: str
    name: str | None


class IdTokenVerifier(ABC):
    @abstractmethod
    def verify(self, id_token: str) -> GoogleIdentity: ...


class GoogleIdTokenVerifier(IdTokenVerifier):
    """Verifies Google ID tokens against Google's published keys (JWKS, cached)."""

    def __init__(self, client_id: str, jwks_url: str, *, cache_seconds: float = 3600,
                 leeway: float = 30) -> None:
        self._client_id = client_id
        self._jwks = jwt.PyJWKClient(jwks_url, cache_jwk_set=True, lifespan=cache_seconds,
                                     timeout=5)
        self._leeway = leeway

    def verify(self, id_token: str) -> GoogleIdentity:
        try:
            key = self._jwks.get_signing_key_from_jwt(id_token)
        except jwt.PyJWKClientConnectionError:
            raise DependencyFailed("Google's signing keys could not be fetched") from None
        except (jwt.PyJWKClientError, jwt.InvalidTokenError):
            raise AuthFailed("the Google ID token is not valid") from None
        try:
            claims = jwt.decode(id_token, key.key, algorithms=["RS256"], audience=self._client_id,
                                issuer=GOOGLE_ISSUERS, leeway=self._leeway,
                                options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError:
            raise AuthFailed("the Google ID token has expired") from None
        except jwt.InvalidTokenError:
            raise AuthFailed("the Google ID token is not valid") from None
        email = claims.get("email")
        if not email or claims.get("email_verified") not in (True, "true"):
            raise AuthFailed("the Google account has no verified e-mail address")
        return GoogleIdentity(sub=str(claims["sub"]), email=str(email).lower(), name=claims.get("name"))


KID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: The key id of a lone ``jwt_signing_key`` (an app secret from before key ids); tokens
#: without a ``kid`` header were signed with it.
LEGACY_KID = "k0"


@dataclass(frozen=True)
class Keyring:
    """The JWT signing keys by key id: ``current`` signs, every key verifies."""

    current: str
    keys: Mapping[str, str] = field(repr=False)

    def __post_init__(self) -> None:
        bad = sorted(kid for kid in self.keys if not KID_PATTERN.match(str(kid)))
        if bad:
            raise ValueError(f"JWT key ids must match {KID_PATTERN.pattern}: {', '.join(map(repr, bad))}")
        empty = sorted(kid for kid, key in self.keys.items() if not isinstance(key, str) or not key)
        if empty:
            raise ValueError(f"JWT keys without a value: {', '.join(empty)}")
        if self.current not in self.keys:
            raise ValueError(f"the current JWT key id {self.current!r} is not among the keys "
                             f"({', '.join(sorted(self.keys))})")

    @classmethod
    def single(cls, key: str) -> Keyring:
        return cls(LEGACY_KID, {LEGACY_KID: key})


def keyring_from_secret(value: Mapping[str, Any]) -> Keyring:
    """The keys of the app secret: ``jwt_keys`` (key id -> key) with ``jwt_current_kid``,
    or, from before key ids, a lone ``jwt_signing_key`` (key id ``k0``).

    Raises ValueError naming what is wrong, never a key."""
    keys = value.get("jwt_keys")
    if keys is None:
        key = value.get("jwt_signing_key")
        if not isinstance(key, str) or not key:
            raise ValueError("the app secret has neither jwt_keys nor jwt_signing_key")
        return Keyring.single(key)
    if not isinstance(keys, dict) or not keys:
        raise ValueError("jwt_keys must be a non-empty JSON object of key id -> key")
    current = value.get("jwt_current_kid")
    if not isinstance(current, str) or not current:
        raise ValueError("jwt_current_kid is missing: it names the key of jwt_keys that signs")
    return Keyring(current, dict(keys))


class AccessTokens:
    """Short-lived HS256 access JWTs with a key id (``kid``) header.

    ``keys`` is a key (AUTOBUY_JWT_SIGNING_KEY, key id ``k0``), a :class:`Keyring`, or a
    callable returning the keyring in use (the app secret re-read without a restart): the
    current key signs; a token verifies with the key its ``kid`` names while that key is in
    the keyring, so a rotation signs nobody out (docs/security.md, "Rotation").
    """

    def __init__(self, keys: str | Keyring | Callable[[], Keyring], ttl_seconds: int,
                 clock: Callable[[], float] = time.time) -> None:
        if ttl_seconds > 900:
            raise ValueError("access tokens live at most 15 minutes")
        if isinstance(keys, str):
            keys = Keyring.single(keys)
        self._keyring: Callable[[], Keyring] = keys if callable(keys) else (lambda: keys)
        self.ttl = ttl_seconds
        self._clock = clock

    def issue(self, user_id: str) -> str:
        keyring = self._keyring()
        now = int(self._clock())
        return jwt.encode({"sub": user_id, "iat": now, "nbf": now, "exp": now + self.ttl,
                           "iss": ACCESS_ISSUER, "aud": ACCESS_AUDIENCE, "typ": "access",
                           "jti": secrets.token_hex(8)}, keyring.keys[keyring.current],
                          algorithm="HS256", headers={"kid": keyring.current})

    def verify(self, token: str) -> str:
        """The user id of a valid access token; AuthFailed otherwise."""
        try:
            kid = jwt.get_unverified_header(token).get("kid", LEGACY_KID)
        except jwt.InvalidTokenError:
            raise AuthFailed("the access token is not valid") from None
        key = self._keyring().keys.get(kid) if isinstance(kid, str) else None
        if key is None:  # a retired key, or one never issued here
            raise AuthFailed("the access token is not valid")
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=["HS256"], audience=ACCESS_AUDIENCE,
                issuer=ACCESS_ISSUER, options={"require": ["exp", "iat", "sub", "aud", "iss"]})
        except jwt.ExpiredSignatureError:
            raise AuthFailed("the access token has expired") from None
        except jwt.InvalidTokenError:
            raise AuthFailed("the access token is not valid") from None
        if claims.get("typ") != "access":
            raise AuthFailed("the access token is not valid")
        return str(claims["sub"])


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
