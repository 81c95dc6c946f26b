"""An upgrade end to end, offline: the API's real Stripe gateway talks to the local cloud's
Stripe stand-in (``AUTOBUY_STRIPE_API_URL``), the payment page is completed, the stand-in's
signed webhooks reach the API over HTTP and the user's tier changes."""
from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import falcon.testing
import pytest

from autobuy.app import create_app
from autobuy.dev.api import stripe_webhook_secret
from tests.app import helpers
from tests.app.conftest import sign_in
from tests.localcloud.test_stripe_standin import call, press

pytestmark = pytest.mark.slow


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def api(localcloud) -> Iterator[tuple[str, falcon.testing.TestClient]]:
    """The API on a loopback port, its Stripe URL the stand-in, its webhook secret the one
    the stand-in gave the endpoint registered for it (as an operator copies it from Stripe)."""
    server = make_server("127.0.0.1", 0, lambda e, s: app(e, s), server_class=_Server, handler_class=_Quiet)
    url = f"http://127.0.0.1:{server.server_port}"
    # what `make api` does (autobuy.dev.api): register this API's webhook, take its secret
    stripe_webhook_secret(localcloud + "/stripe", url + "/v1/billing/webhook", "sk_test_upgrade")
    secret = stripe_webhook_secret(localcloud + "/stripe", url + "/v1/billing/webhook", "sk_test_upgrade")
    hooks = [h for h in call(localcloud + "/stripe/v1/webhook_endpoints")[1]["data"]
             if h["url"] == url + "/v1/billing/webhook"]
    assert len(hooks) == 1  # a second start replaced the first registration
    settings = helpers.settings(stripe_api_url=localcloud + "/stripe", stripe_secret_key="sk_test_upgrade",
                                stripe_webhook_secret=secret,
                                checkout_success_url=url + "/account?checkout=done",
                                checkout_cancel_url=url + "/account?checkout=cancelled")
    stores = helpers.memory_stores(gateway=None)
    app = create_app(settings, stores=stores)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield url, falcon.testing.TestClient(app)
    finally:
        server.shutdown()
        call(f"{localcloud}/stripe/v1/webhook_endpoints/{hooks[0]['id']}", "DELETE")


def _me(url: str, token: str) -> dict:
    request = urllib.request.Request(url + "/v1/me", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.load(resp)


def _wait_for_tier(url: str, token: str, tier: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    me = _me(url, token)
    while me["user"]["tier"] != tier and time.monotonic() < deadline:
        time.sleep(0.1)
        me = _me(url, token)
    return me


def test_upgrade_to_pro_end_to_end(api, localcloud):
    url, client = api
    token = sign_in(client, "upgrade@example.com")["access_token"]
    assert _me(url, token)["user"]["tier"] == "free"
    request = urllib.request.Request(url + "/v1/billing/checkout", data=json.dumps({"tier": "pro"}).encode(),
                                     method="POST", headers={"Authorization": f"Bearer {token}",
                                                             "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 201
        checkout = json.load(resp)
    assert checkout["url"].startswith(localcloud + "/stripe/checkout/")

    assert press(checkout["url"], "Pay and subscribe") == url + "/account?checkout=done"
    me = _wait_for_tier(url, token, "pro")
    assert me["user"]["tier"] == "pro", me
    billing = client.simulate_get("/v1/billing", headers={"Authorization": f"Bearer {token}"}).json
    # 900:eur is the stand-in's default price of price_autobuy_pro (LOCALCLOUD_STRIPE_PRICES)
    assert (billing["status"], billing["amount"], billing["currency"], billing["has_customer"]) == (
        "active", "9.00", "EUR", True)

    # cancelling the subscription at Stripe brings the user back to free
    events = call(localcloud + "/stripe/v1/events")[1]["data"]
    sub = next(e["data"]["object"] for e in events if e["type"] == "customer.subscription.created"
               and e["data"]["object"]["metadata"].get("user_id") == me["user"]["id"])
    status, _ = call(f"{localcloud}/stripe/v1/subscriptions/{sub['id']}", "DELETE", key="sk_test_upgrade")
    assert status == 200
    assert _wait_for_tier(url, token, "free")["user"]["tier"] == "free"


def test_cancelled_checkout_keeps_the_tier(api, localcloud):
    url, client = api
    token = sign_in(client, "undecided@example.com")["access_token"]
    checkout = client.simulate_post("/v1/billing/checkout", json={"tier": "ultra"},
                                    headers={"Authorization": f"Bearer {token}"}).json
    assert press(checkout["url"], "Cancel") == url + "/account?checkout=cancelled"
    assert _me(url, token)["user"]["tier"] == "free"
