"""Sign-in, refresh and sign-out.

Browsers keep the refresh token in an ``HttpOnly; Secure; SameSite=Strict`` cookie on the
site's own origin, limited to ``/v1/auth`` (:data:`REFRESH_COOKIE`): sign-in (Google and
development) and refresh set it, sign-out clears it, and a refresh without
``refresh_token`` in its body reads it. A sign-in with ``"session": "cookie"`` and a
refresh through the cookie leave the refresh token out of the JSON answer, so script on
the page never sees it. Non-browser clients keep the JSON body form.

Cross-site requests: SameSite=Strict keeps the cookie off requests another site starts,
and every auth endpoint requires a JSON body (``Content-Type: application/json``), which
a cross-site form cannot send and a cross-site script can only send after a CORS
preflight that the API answers for ``AUTOBUY_CORS_ORIGIN`` alone.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

import falcon

from autobuy.config import Settings
from autobuy.errors import AuthFailed, InvalidInput
from autobuy.services.auth import TokenPair
from autobuy.resources.common import client_ip, json_object
from autobuy.services.auth import AuthService
from autobuy.services.ratelimit import Limiter

REFRESH_COOKIE = "__Secure-autobuy-refresh"
REFRESH_COOKIE_PATH = "/v1/auth"
_EXPIRED = datetime(1970, 1, 1, tzinfo=timezone.utc)
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

    def _answer(self, resp: falcon.Response, tokens: TokenPair, *, cookie_only: bool) -> None:
        """The tokens as JSON, and the refresh token as the session cookie (both forms);
        ``cookie_only`` leaves it out of the JSON."""
        resp.set_cookie(REFRESH_COOKIE, tokens.refresh_token,
                        max_age=self._settings.refresh_token_days * 86400,
                        path=REFRESH_COOKIE_PATH, secure=True, http_only=True, same_site="Strict")
        body = tokens.as_json()
        if cookie_only:
            del body["refresh_token"]
        resp.media = body


def _cookie_only(body: dict) -> bool:
    """A sign-in's ``session``: "cookie" (browsers) or "body" (the default)."""
    session = body.get("session", "body")
    if session not in ("cookie", "body"):
        raise InvalidInput('session: must be "cookie" or "body"')
    return session == "cookie"


def _refresh_token(req: falcon.Request, body: dict) -> tuple[str | None, bool]:
    """(token, from the cookie?): the body's ``refresh_token`` if it has one, else the cookie."""
    if "refresh_token" in body:
        return _string_field(body, "refresh_token", 256), False
    cookies = req.get_cookie_values(REFRESH_COOKIE) or []
    token = next((c for c in cookies if c and len(c) <= 256), None)
    return token, True


class GoogleSignIn(_SignIn):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._limit_ip(req)
        body = json_object(req, self._settings.max_body_bytes)
        token = _string_field(body, "id_token")
        cookie_only = _cookie_only(body)
        identity = self._auth.google_identity(token)
        self._limit_user(f"google:{identity.sub}")
        self._answer(resp, self._auth.sign_in_google(identity), cookie_only=cookie_only)


class DevSignIn(_SignIn):
    """Development sign-in: routed only when AUTOBUY_DEV_SIGNIN is true (never in production)."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._limit_ip(req)
        body = json_object(req, self._settings.max_body_bytes)
        email = _string_field(body, "email", 254)
        if not _EMAIL.fullmatch(email):
            raise InvalidInput("email: not a valid e-mail address")
        cookie_only = _cookie_only(body)
        self._limit_user(f"email:{email.lower()}")
        self._answer(resp, self._auth.sign_in_dev(email.lower()), cookie_only=cookie_only)


class Refresh(_SignIn):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._limit_ip(req)
        token, from_cookie = _refresh_token(req, json_object(req, self._settings.max_body_bytes))
        if token is None:
            raise AuthFailed("no session: send refresh_token, or sign in again")
        self._answer(resp, self._auth.refresh(token), cookie_only=from_cookie)


class Logout(_SignIn):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._limit_ip(req)
        token, _ = _refresh_token(req, json_object(req, self._settings.max_body_bytes))
        if token is not None:
            self._auth.logout(token)
        # Not unset_cookie(): browsers ignore a __Secure- cookie (even an expired one)
        # sent without the Secure attribute, which unset_cookie() leaves out; and
        # set_cookie() drops max_age=0, hence a date in the past.
        resp.set_cookie(REFRESH_COOKIE, "", expires=_EXPIRED, path=REFRESH_COOKIE_PATH,
                        secure=True, http_only=True, same_site="Strict")
        resp.status = falcon.HTTP_204
