"""Sign-in, token verification, refresh rotation and sign-out through the HTTP API."""
from __future__ import annotations

import base64
import json
import time

import falcon.testing
import jwt
import pytest
from autobuy.app import create_app
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.app import helpers
from tests.app.conftest import sign_in


def google_sign_in(client, token):
    return client.simulate_post("/v1/auth/google", json={"id_token": token})


def test_google_sign_in_creates_user_and_returns_tokens(client, google_keys, stores):
    result = google_sign_in(client, google_keys.token())
    assert result.status_code == 200
    body = result.json
    assert body["token_type"] == "Bearer" and body["expires_in"] <= 900
    assert body["user"]["email"] == "ana@example.com" and body["user"]["tier"] == "free"
    me = client.simulate_get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json["user"]["id"] == body["user"]["id"]
    # the same Google account signs in to the same user, mirrored for the engine
    again = google_sign_in(client, google_keys.token())
    assert again.json["user"]["id"] == body["user"]["id"]
    assert stores.items.mirror[body["user"]["id"]].tier == "free"


def test_google_keys_are_cached(client, google_keys):
    before = google_keys.fetches
    for _ in range(3):
        assert google_sign_in(client, google_keys.token()).status_code == 200
    assert google_keys.fetches - before <= 1


@pytest.mark.parametrize("case", ["wrong_audience", "wrong_issuer", "expired", "other_key",
                                  "unknown_kid", "unverified_email", "garbage", "alg_none"])
def test_bad_google_tokens_are_refused(client, google_keys, case):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = {
        "wrong_audience": lambda: google_keys.token(aud="someone-else.apps.googleusercontent.com"),
        "wrong_issuer": lambda: google_keys.token(iss="https://evil.example"),
        "expired": lambda: google_keys.token(expires_in=-120),
        "other_key": lambda: google_keys.token(key=other),
        "unknown_kid": lambda: google_keys.token(key=other, kid="nope"),
        "unverified_email": lambda: google_keys.token(email_verified=False),
        "garbage": lambda: "not.a.jwt",
        "alg_none": lambda: jwt.encode({"sub": "x", "aud": helpers.CLIENT_ID,
                                        "iss": "accounts.google.com", "exp": int(time.time()) + 60,
                                        "iat": int(time.time()), "email": "a@b.co",
                                        "email_verified": True}, None, algorithm="none",
                                       headers={"kid": google_keys.kid}),
    }[case]()
    result = google_sign_in(client, token)
    assert result.status_code == 401
    assert result.json["error"]["title"] == "Unauthorized"


def _forge(claims: dict, header: dict) -> str:
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{enc(header)}.{enc(claims)}."


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.mark.parametrize("case", ["tampered", "expired", "alg_none", "wrong_audience", "wrong_key",
                                  "missing", "not_bearer"])
def test_bad_access_tokens_get_401(client, tokens, case):
    good = tokens["access_token"]
    claims = _claims(good)
    token = {
        "tampered": lambda: good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
        "expired": lambda: jwt.encode({**claims, "exp": int(time.time()) - 60}, helpers.JWT_KEY, "HS256"),
        "alg_none": lambda: _forge(claims, {"alg": "none", "typ": "JWT"}),
        "wrong_audience": lambda: jwt.encode({**claims, "aud": "other"}, helpers.JWT_KEY, "HS256"),
        "wrong_key": lambda: jwt.encode(claims, "x" * 48, "HS256"),
        "missing": lambda: None,
        "not_bearer": lambda: None,
    }[case]()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if case == "not_bearer":
        headers = {"Authorization": f"Basic {good}"}
    result = client.simulate_get("/v1/me", headers=headers)
    assert result.status_code == 401
    assert result.headers["WWW-Authenticate"] == "Bearer"
    assert result.json["error"]["request_id"] == result.headers["X-Request-ID"]


def test_refresh_rotates_and_reuse_revokes_the_family(client, tokens):
    first = tokens["refresh_token"]
    second = client.simulate_post("/v1/auth/refresh", json={"refresh_token": first})
    assert second.status_code == 200
    new_refresh = second.json["refresh_token"]
    assert new_refresh != first
    # the spent token is replayed (stolen?) -> refused, and the whole family is revoked
    replay = client.simulate_post("/v1/auth/refresh", json={"refresh_token": first})
    assert replay.status_code == 401
    after = client.simulate_post("/v1/auth/refresh", json={"refresh_token": new_refresh})
    assert after.status_code == 401


def test_refresh_refuses_unknown_and_expired(settings, stores):
    now = [time.time()]
    app = create_app(settings, stores=stores)
    client = falcon.testing.TestClient(app)
    tokens = sign_in(client)
    assert client.simulate_post("/v1/auth/refresh", json={"refresh_token": "x" * 43}).status_code == 401
    record = next(iter(stores.refresh_tokens.tokens.values()))
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta
    stores.refresh_tokens.tokens[record.token_hash] = replace(
        record, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    result = client.simulate_post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert result.status_code == 401 and "expired" in result.json["error"]["detail"]
    del now


def test_logout_revokes_the_session(client, tokens):
    assert client.simulate_post("/v1/auth/logout",
                                json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert client.simulate_post("/v1/auth/refresh",
                                json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    # unknown tokens sign out quietly (no oracle)
    assert client.simulate_post("/v1/auth/logout", json={"refresh_token": "nope"}).status_code == 204


def test_dev_sign_in_only_when_enabled(google_keys, stores):
    off = falcon.testing.TestClient(create_app(helpers.settings(dev_signin=False), stores=stores))
    assert off.simulate_post("/v1/auth/dev", json={"email": "a@b.co"}).status_code == 404
    assert "/v1/auth/dev" not in off.simulate_get("/openapi.json").json["paths"]


@pytest.mark.parametrize("body", [{}, {"email": "not-an-email"}, {"email": 5}, {"email": ""}])
def test_dev_sign_in_validates(client, body):
    result = client.simulate_post("/v1/auth/dev", json=body)
    assert result.status_code == 422


def test_sign_in_rate_limited_per_ip_with_retry_after(google_keys, stores):
    s = helpers.settings(google_jwks_url=google_keys.url, signin_per_minute_ip=3)
    client = falcon.testing.TestClient(create_app(s, stores=stores))
    codes = [client.simulate_post("/v1/auth/dev", json={"email": f"u{i}@example.com"}).status_code
             for i in range(4)]
    assert codes == [200, 200, 200, 429]
    result = client.simulate_post("/v1/auth/dev", json={"email": "late@example.com"})
    assert result.status_code == 429 and 1 <= int(result.headers["Retry-After"]) <= 60
    # another client address has its own budget
    other = client.simulate_post("/v1/auth/dev", json={"email": "x@example.com"},
                                 remote_addr="10.1.2.3")
    assert other.status_code == 200


def test_sign_in_rate_limited_per_user(google_keys, stores):
    s = helpers.settings(google_jwks_url=google_keys.url, signin_per_minute_user=2)
    client = falcon.testing.TestClient(create_app(s, stores=stores))
    codes = [google_sign_in(client, google_keys.token()).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


# ---- browser sessions: the refresh token in an HttpOnly cookie ----------------------------
COOKIE = "__Secure-autobuy-refresh"


def _session_cookie(result):
    cookie = result.cookies[COOKIE]
    assert (cookie.path, cookie.secure, cookie.http_only, cookie.same_site) == (
        "/v1/auth", True, True, "Strict")
    assert cookie.domain is None  # host-only: the site's own origin
    return cookie


def test_cookie_sign_in_keeps_the_refresh_token_out_of_script_reach(client, settings):
    result = client.simulate_post("/v1/auth/dev", json={"email": "ana@example.com",
                                                        "session": "cookie"})
    assert result.status_code == 200, result.text
    assert "refresh_token" not in result.json and result.json["access_token"]
    cookie = _session_cookie(result)
    assert cookie.max_age == settings.refresh_token_days * 86400
    assert len(cookie.value) >= 40


def test_body_sign_in_also_sets_the_cookie_and_keeps_its_json(client):
    result = client.simulate_post("/v1/auth/dev", json={"email": "ana@example.com"})
    assert _session_cookie(result).value == result.json["refresh_token"]


def test_google_sign_in_sets_the_cookie(client, google_keys):
    token = google_keys.token()
    result = client.simulate_post("/v1/auth/google", json={"id_token": token, "session": "cookie"})
    assert result.status_code == 200, result.text
    assert "refresh_token" not in result.json
    assert _session_cookie(result).value


def test_refresh_through_the_cookie_rotates_it(client):
    signed_in = client.simulate_post("/v1/auth/dev", json={"email": "ana@example.com",
                                                           "session": "cookie"})
    first = signed_in.cookies[COOKIE].value
    refreshed = client.simulate_post("/v1/auth/refresh", json={}, cookies={COOKIE: first})
    assert refreshed.status_code == 200, refreshed.text
    assert "refresh_token" not in refreshed.json
    second = _session_cookie(refreshed).value
    assert second != first
    me = client.simulate_get("/v1/me", headers={
        "Authorization": f"Bearer {refreshed.json['access_token']}"})
    assert me.json["user"]["email"] == "ana@example.com"
    # the old cookie is spent: replaying it revokes the family, the new one with it
    assert client.simulate_post("/v1/auth/refresh", json={},
                                cookies={COOKIE: first}).status_code == 401
    assert client.simulate_post("/v1/auth/refresh", json={},
                                cookies={COOKIE: second}).status_code == 401


def test_refresh_prefers_the_body_token_over_the_cookie(client):
    a = client.simulate_post("/v1/auth/dev", json={"email": "ana@example.com"}).json
    b = client.simulate_post("/v1/auth/dev", json={"email": "bob@example.com"}).json
    result = client.simulate_post("/v1/auth/refresh", json={"refresh_token": a["refresh_token"]},
                                  cookies={COOKIE: b["refresh_token"]})
    assert result.json["user"]["email"] == "ana@example.com"
    assert result.json["refresh_token"] == result.cookies[COOKIE].value


def test_refresh_without_a_token_or_cookie_is_401(client):
    result = client.simulate_post("/v1/auth/refresh", json={})
    assert result.status_code == 401
    assert "no session" in result.json["error"]["detail"]


@pytest.mark.parametrize("headers", [
    {"Content-Type": "application/x-www-form-urlencoded"},  # what a cross-site form sends
    {"Content-Type": "text/plain"},
    {},
])
def test_the_cookie_path_needs_a_json_body(client, headers):
    cookie = client.simulate_post("/v1/auth/dev", json={"email": "ana@example.com"}).cookies[COOKIE]
    for path in ("/v1/auth/refresh", "/v1/auth/logout"):
        result = client.simulate_post(path, body="{}", headers=headers,
                                      cookies={COOKIE: cookie.value})
        assert result.status_code == 415, (path, result.text)
    assert client.simulate_post("/v1/auth/refresh", json={},
                                cookies={COOKIE: cookie.value}).status_code == 200


def test_sign_out_through_the_cookie_revokes_and_clears_it(client):
    cookie = client.simulate_post("/v1/auth/dev", json={"email": "ana@example.com",
                                                        "session": "cookie"}).cookies[COOKIE]
    result = client.simulate_post("/v1/auth/logout", json={}, cookies={COOKIE: cookie.value})
    assert result.status_code == 204
    cleared = result.cookies[COOKIE]
    assert (cleared.value, cleared.path, cleared.secure) == ("", "/v1/auth", True)
    assert cleared.expires.year == 1970
    assert client.simulate_post("/v1/auth/refresh", json={},
                                cookies={COOKIE: cookie.value}).status_code == 401
    # signing out without any session still answers 204 and clears the cookie
    again = client.simulate_post("/v1/auth/logout", json={})
    assert again.status_code == 204 and again.cookies[COOKIE].expires.year == 1970


def test_session_must_be_cookie_or_body(client):
    result = client.simulate_post("/v1/auth/dev", json={"email": "ana@example.com",
                                                        "session": "local-storage"})
    assert result.status_code == 422
    assert 'session: must be "cookie" or "body"' in result.json["error"]["detail"]


def test_the_documented_cookie_is_the_one_set():
    from autobuy import openapi
    from autobuy.resources import auth as auth_resource

    assert openapi.REFRESH_COOKIE == auth_resource.REFRESH_COOKIE == COOKIE
