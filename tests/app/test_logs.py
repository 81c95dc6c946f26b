"""Structured JSON request logs with request ids, and no secret in any log line."""
from __future__ import annotations

import io
import json
import logging

import falcon.testing
from autobuy import logs
from autobuy.app import create_app

from tests.app import helpers
from tests.app.test_billing import event, subscription


def test_no_token_or_secret_in_any_log_line(google_keys):
    stream = io.StringIO()
    logs.configure("DEBUG", stream)
    try:
        client = falcon.testing.TestClient(create_app(helpers.settings(google_jwks_url=google_keys.url),
                                                      stores=helpers.memory_stores()))
        id_token = google_keys.token()
        signed = client.simulate_post("/v1/auth/google", json={"id_token": id_token}).json
        auth = {"Authorization": f"Bearer {signed['access_token']}"}
        refreshed = client.simulate_post("/v1/auth/refresh", json={"refresh_token": signed["refresh_token"]}).json
        client.simulate_post("/v1/auth/refresh", json={"refresh_token": signed["refresh_token"]})  # reuse
        client.simulate_get("/v1/me", headers=auth, params={"token": signed["access_token"]})
        client.simulate_get("/v1/me", headers={"Authorization": "Bearer " + signed["access_token"][:-2]})
        payload = event("evt_log", "customer.subscription.created", subscription(signed["user"]["id"]))
        client.simulate_post("/v1/billing/webhook", body=payload,
                             headers={"Stripe-Signature": helpers.stripe_signature(payload)})
        client.simulate_post("/v1/auth/logout", json={"refresh_token": refreshed["refresh_token"]})
        logging.getLogger("x").info("oops %s", "Bearer " + signed["access_token"])
    finally:
        logs.configure("INFO")
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert any(line.get("path") == "/v1/me" and line.get("request_id") for line in lines)
    assert all(line["ts"] and line["level"] for line in lines)
    for secret in (id_token, signed["access_token"], signed["refresh_token"], refreshed["refresh_token"],
                   refreshed["access_token"], helpers.JWT_KEY, helpers.WEBHOOK_SECRET,
                   helpers.STRIPE_KEY, helpers.DB_PASSWORD, helpers.stripe_signature(payload).split("v1=")[1]):
        assert secret not in text
    assert "[REDACTED]" in text


def test_redact_patterns():
    assert "sk_live_abc" not in logs.redact("key sk_live_abcdef123")
    assert "hunter2" not in logs.redact('{"password": "hunter2"}')
    assert "whsec_" not in logs.redact("whsec_abcdef")
