"""The local cloud's Stripe stand-in, driven by the API's own Stripe gateway and checked
with Stripe's SDK (the oracle for the signature scheme and event shapes)."""
from __future__ import annotations

import http.server
import json
import re
import threading
import time
import urllib.error
import urllib.request
import wsgiref.simple_server
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import stripe

from autobuy.errors import DependencyFailed
from autobuy.services.billing import StripeGateway
from localcloud.stripe import StripeStandIn, parse_form, prices_from

KEY = "sk_test_standin"


class Receiver:
    """A loopback webhook endpoint that keeps what it was sent."""

    def __init__(self, refuse_first: int = 0) -> None:
        self.received: list[tuple[bytes, str]] = []
        self.hosts: list[str] = []
        self.refused = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.refused < refuse_first:
                    outer.refused += 1
                    self.send_response(500)
                else:
                    outer.received.append((body, self.headers["Stripe-Signature"]))
                    outer.hosts.append(self.headers["Host"])
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/billing/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 30) -> list[tuple[bytes, str]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, self.received
        return self.received


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture(autouse=True)
def _forget_endpoints(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test's webhook endpoints go with it (their receivers stop), so later events do
    not owe deliveries to them."""
    yield
    if "localcloud" in request.fixturenames:
        cloud = request.getfixturevalue("localcloud")
        for hook in call(cloud + "/stripe/v1/webhook_endpoints")[1]["data"]:
            if hook["url"].endswith("/v1/billing/webhook") and hook["url"].startswith("http://127.0.0.1"):
                call(f"{cloud}/stripe/v1/webhook_endpoints/{hook['id']}", "DELETE")


def call(url: str, method: str = "GET", form: dict[str, Any] | None = None,
         key: str | None = KEY) -> tuple[int, Any]:
    data = urlencode(form or {}, doseq=True).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def press(page_url: str, button: str) -> str:
    """Open the payment page, press one of its buttons; the Location it sends the browser to."""
    with urllib.request.urlopen(page_url, timeout=10) as resp:
        page = resp.read().decode()
    forms = dict((label, action) for action, label in
                 re.findall(r'<form method="post" action="([^"]+)"><button type="submit">([^<]+)</button>', page))
    base = page_url.split("/stripe/")[0]
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(urllib.request.Request(base + forms[button], data=b"", method="POST"), timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 303
        return exc.headers["Location"]
    raise AssertionError("the button did not redirect")


def endpoint(cloud: str, url: str, events: list[str]) -> dict[str, Any]:
    status, body = call(cloud + "/stripe/v1/webhook_endpoints", "POST",
                        {"url": url, "enabled_events[]": events})
    assert status == 200, body
    return body


def test_form_encoding_is_read_as_stripe_nests_it():
    form = parse_form(b"line_items[0][price]=p&line_items[0][quantity]=1&metadata[user_id]=u"
                      b"&subscription_data[metadata][user_id]=u&enabled_events[]=a&enabled_events[]=b")
    assert form == {"line_items": [{"price": "p", "quantity": "1"}], "metadata": {"user_id": "u"},
                    "subscription_data": {"metadata": {"user_id": "u"}}, "enabled_events": ["a", "b"]}


def test_bad_price_setting_is_named():
    with pytest.raises(SystemExit, match="LOCALCLOUD_STRIPE_PRICES"):
        prices_from("price_pro=nine:eur")


def test_paying_sends_signed_events_stripe_would_send(localcloud, receiver):
    hook = endpoint(localcloud, receiver.url, ["checkout.session.completed", "customer.subscription.created",
                                               "customer.subscription.updated", "customer.subscription.deleted"])
    assert hook["secret"].startswith("whsec_")
    gateway = StripeGateway(KEY, api_url=localcloud + "/stripe", timeout=5, attempts=1)
    session = gateway.create_checkout_session(
        user_id="u1", email="ana@example.com", customer_id=None, price_id="price_autobuy_pro",
        success_url="https://app.test/account?checkout={CHECKOUT_SESSION_ID}",
        cancel_url="https://app.test/account?checkout=cancelled")
    assert session.id.startswith("cs_test_") and session.url.startswith(localcloud + "/stripe/checkout/")

    assert press(session.url, "Pay and subscribe") == f"https://app.test/account?checkout={session.id}"
    received = receiver.wait_for(2)
    # Stripe's SDK verifies each delivery with the endpoint's secret (and refuses another secret)
    events = [stripe.Webhook.construct_event(body.decode(), sig, hook["secret"]) for body, sig in received]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(received[0][0].decode(), received[0][1], "whsec_other")
    by_type = {e["type"]: e["data"]["object"] for e in events}
    assert set(by_type) == {"checkout.session.completed", "customer.subscription.created"}  # enabled only
    completed, sub = by_type["checkout.session.completed"], by_type["customer.subscription.created"]
    assert completed["client_reference_id"] == "u1" and completed["metadata"]["user_id"] == "u1"
    assert completed["customer"].startswith("cus_") and completed["subscription"] == sub["id"]
    assert sub["status"] == "active" and sub["metadata"]["user_id"] == "u1"
    assert sub["items"]["data"][0]["price"]["id"] == "price_autobuy_pro"
    assert sub["current_period_end"] > time.time() + 27 * 86400
    # the session reads back complete
    status, stored = call(f"{localcloud}/stripe/v1/checkout/sessions/{session.id}")
    assert status == 200 and (stored["status"], stored["payment_status"]) == ("complete", "paid")
    # cancelling the subscription sends customer.subscription.deleted
    status, cancelled = call(f"{localcloud}/stripe/v1/subscriptions/{sub['id']}", "DELETE")
    assert status == 200 and cancelled["status"] == "canceled"
    deleted = stripe.Webhook.construct_event(receiver.wait_for(3)[2][0].decode(), receiver.received[2][1],
                                             hook["secret"])
    assert deleted["type"] == "customer.subscription.deleted"


def test_cancel_sends_nothing_and_goes_back(localcloud, receiver):
    endpoint(localcloud, receiver.url, ["*"])
    gateway = StripeGateway(KEY, api_url=localcloud + "/stripe", timeout=5, attempts=1)
    session = gateway.create_checkout_session(
        user_id="u2", email="bo@example.com", customer_id=None, price_id="price_autobuy_ultra",
        success_url="https://app.test/ok", cancel_url="https://app.test/cancelled")
    assert press(session.url, "Cancel") == "https://app.test/cancelled"
    status, events = call(localcloud + "/stripe/v1/events")
    assert status == 200
    assert not [e for e in events["data"] if e["data"]["object"].get("id") == session.id]
    assert call(f"{localcloud}/stripe/v1/checkout/sessions/{session.id}")[1]["status"] == "open"


def test_a_refused_delivery_is_retried(localcloud):
    # pending_webhooks counts every endpoint the event is owed to: those other tests left on
    # this session's local cloud (their receivers gone) would keep it above 0
    for old in call(localcloud + "/stripe/v1/webhook_endpoints")[1]["data"]:
        call(localcloud + f"/stripe/v1/webhook_endpoints/{old['id']}", "DELETE")
    receiver = Receiver(refuse_first=1)
    try:
        hook = endpoint(localcloud, receiver.url, ["checkout.session.completed"])
        gateway = StripeGateway(KEY, api_url=localcloud + "/stripe", timeout=5, attempts=1)
        session = gateway.create_checkout_session(
            user_id="u3", email="cy@example.com", customer_id=None, price_id="price_autobuy_pro",
            success_url="https://app.test/ok", cancel_url="https://app.test/no")
        press(session.url, "Pay and subscribe")
        body, sig = receiver.wait_for(1)[0]
        assert receiver.refused == 1
        # the event owes no delivery any more (Stripe's pending_webhooks)
        deadline = time.monotonic() + 10
        while True:
            event = next(e for e in call(localcloud + "/stripe/v1/events")[1]["data"]
                         if e["data"]["object"].get("id") == session.id)
            if event["pending_webhooks"] == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert event["pending_webhooks"] == 0
        assert stripe.Webhook.construct_event(body.decode(), sig, hook["secret"])["data"]["object"]["id"] == session.id
    finally:
        receiver.server.shutdown()


def test_refusals_look_like_stripes(localcloud):
    gateway = StripeGateway(KEY, api_url=localcloud + "/stripe", timeout=5, attempts=1)
    with pytest.raises(DependencyFailed, match="HTTP 400"):
        gateway.create_checkout_session(user_id="u", email="a@example.com", customer_id=None,
                                        price_id="price_unknown", success_url="https://a/", cancel_url="https://b/")
    status, body = call(localcloud + "/stripe/v1/checkout/sessions", "POST", {"mode": "subscription"}, key=None)
    assert status == 401 and body["error"]["type"] == "invalid_request_error"
    status, body = call(localcloud + "/stripe/v1/checkout/sessions", "POST", {
        "mode": "subscription", "line_items[0][price]": "price_autobuy_pro", "customer": "cus_missing",
        "success_url": "https://a/", "cancel_url": "https://b/"})
    assert status == 400 and body["error"]["code"] == "resource_missing" and body["error"]["param"] == "customer"
    assert call(localcloud + "/stripe/v1/nothing")[0] == 404


def test_a_twin_instance_gets_a_page_this_machine_opens_and_events_reach_the_public_name(receiver):
    """An instance calls the stand-in by its twin network name (localcloud/twin/stripe_host.py):
    the payment page it is given is on this machine's loopback, where a browser opens it;
    the events go to the endpoint's public name as DNS would answer it (on the twin: its
    load balancer), with that name in Host."""
    receiver_port = int(receiver.url.split("/")[2].rpartition(":")[2])
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> tuple[str, int] | None:
        asked.append((host, port))
        return ("127.0.0.1", receiver_port) if (host, port) == ("api.shop.test", 80) else None

    standin = StripeStandIn(prices_from("price_pro=900:eur"), retry_delays=(), resolve=resolve)
    server = wsgiref.simple_server.make_server("127.0.0.1", 0, standin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/stripe"
    try:
        endpoint(base.removesuffix("/stripe"), "http://api.shop.test/v1/billing/webhook",
                 ["checkout.session.completed"])
        request = urllib.request.Request(base + "/v1/checkout/sessions", method="POST", data=urlencode({
            "mode": "subscription", "line_items[0][price]": "price_pro",
            "success_url": "https://shop.test/ok", "cancel_url": "https://shop.test/no",
            "customer_email": "a@example.com"}).encode(),
            headers={"Authorization": f"Bearer {KEY}", "Host": "stripe.twin.internal"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            session = json.load(resp)
        assert session["url"] == f"{base}/checkout/{session['id']}"
        assert press(session["url"], "Pay and subscribe") == "https://shop.test/ok"
        body, _ = receiver.wait_for(1)[0]
        assert json.loads(body)["type"] == "checkout.session.completed"
        assert receiver.hosts == ["api.shop.test"] and ("api.shop.test", 80) in asked
    finally:
        server.shutdown()


def test_make_locals_webhook_step_keeps_its_endpoint_and_secret_on_a_rerun(localcloud, tmp_path):
    """autobuy.dev.stripe_webhook: the endpoint and the 0600 vars file once; a rerun keeps
    both (site.yml then changes nothing); an endpoint gone (a fresh local cloud) is replaced."""
    from autobuy.dev.stripe_webhook import ensure

    url, out = "https://api.rerun.test/v1/billing/webhook", tmp_path / "stripe-webhook.yml"
    assert ensure(localcloud + "/stripe", url, out) is True
    first = out.read_text()
    assert out.stat().st_mode & 0o777 == 0o600 and "autobuy_stripe_webhook_secret: \"whsec_" in first
    assert ensure(localcloud + "/stripe", url, out) is False and out.read_text() == first
    (hook,) = [h for h in call(localcloud + "/stripe/v1/webhook_endpoints")[1]["data"] if h["url"] == url]
    call(f"{localcloud}/stripe/v1/webhook_endpoints/{hook['id']}", "DELETE")
    assert ensure(localcloud + "/stripe", url, out) is True and out.read_text() != first
    (hook,) = [h for h in call(localcloud + "/stripe/v1/webhook_endpoints")[1]["data"] if h["url"] == url]
    call(f"{localcloud}/stripe/v1/webhook_endpoints/{hook['id']}", "DELETE")
