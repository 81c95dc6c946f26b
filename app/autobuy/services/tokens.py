"""Token handling: Google ID token verification, access JWTs, refresh token material."""
from __future__ import annotations

import hashlib
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
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


class AccessTokens:
    """Short-lived HS256 access JWTs signed with AUTOBUY_JWT_SIGNING_KEY."""

    def __init__(self, signing_key: str, ttl_seconds: int, clock: Callable[[], float] = time.time) -> None:
        if ttl_seconds > 900:
            raise ValueError("access tokens live at most 15 minutes")
        self._key = signing_key
        self.ttl = ttl_seconds
        self._clock = clock

    def issue(self, user_id: str) -> str:
        now = int(self._clock())
        return jwt.encode({"sub": user_id, "iat": now, "nbf": now, "exp": now + self.ttl,
                           "iss": ACCESS_ISSUER, "aud": ACCESS_AUDIENCE, "typ": "access",
                           "jti": secrets.token_hex(8)}, self._key, algorithm="HS256")

    def verify(self, token: str) -> str:
        """The user id of a valid access token; AuthFailed otherwise."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._key, algorithms=["HS256"], audience=ACCESS_AUDIENCE,
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
