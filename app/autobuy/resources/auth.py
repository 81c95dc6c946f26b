"""Sign-in, refresh and sign-out."""
from __future__ import annotations

import re

import falcon

from autobuy.config import Settings
from autobuy.errors import InvalidInput
from autobuy.resources.common import client_ip, json_object
from autobuy.services.auth import AuthService
from autobuy.services.ratelimit import Limiter

_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+")


def _string_field(body: dict, name: str, max_len: int = 4096) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise InvalidInput(f"{name}: a non-empty string is required")
    return value


class _SignIn:
    public = True

    def __init__(self, auth: AuthService, limiter: Limiter, settings: Settings) -> None:
        self._auth = auth
        self._limiter = limiter
        self._settings = settings

    def _limit_ip(self, req: falcon.Request) -> None:
        self._limiter.hit(f"signin-ip:{client_ip(req)}", limit=self._settings.signin_per_minute_ip,
                          window=60)

    def _limit_user(self, key: str) -> None:
        self._limiter.hit(f"signin-user:{key}", limit=self._settings.signin_per_minute_user, window=60)


class GoogleSignIn(_SignIn):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._limit_ip(req)
        token = _string_field(json_object(req, self._settings.max_body_bytes), "id_token")
        identity = self._auth.google_identity(token)
        self._limit_user(f"google:{identity.sub}")
        resp.media = self._auth.sign_in_google(identity).as_json()


class DevSignIn(_SignIn):
    """Development sign-in: routed only when AUTOBUY_DEV_SIGNIN is true (never in production)."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._limit_ip(req)
        email = _string_field(json_object(req, self._settings.max_body_bytes), "email", 254)
        if not _EMAIL.fullmatch(email):
            raise InvalidInput("email: not a valid e-mail address")
        self._limit_user(f"email:{email.lower()}")
        resp.media = self._auth.sign_in_dev(email.lower()).as_json()


class Refresh(_SignIn):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._limit_ip(req)
        token = _string_field(json_object(req, self._settings.max_body_bytes), "refresh_token", 256)
        resp.media = self._auth.refresh(token).as_json()


class Logout(_SignIn):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._limit_ip(req)
        token = _string_field(json_object(req, self._settings.max_body_bytes), "refresh_token", 256)
        self._auth.logout(token)
        resp.status = falcon.HTTP_204
