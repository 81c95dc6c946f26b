"""Stripe Checkout and the signed, exactly-once webhook."""
from __future__ import annotations

import json
import time

import pytest

from tests.app import helpers


def event(event_id: str, kind: str, obj: dict) -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": kind, "created": int(time.time()),
                       "data": {"object": obj}}).encode()


def subscription(user_id: str, *, price: str = "price_autobuy_pro", status: str = "active") -> dict:
    return {"id": "sub_123", "object": "subscription", "customer": "cus_123", "status": status,
            "metadata": {"user_id": user_id}, "current_period_end": 1900000000,
            "items": {"data": [{"price": {"id": price, "unit_amount": 999, "currency": "eur"}}]}}


def post_event(client, payload: bytes, signature: str | None = None):
    headers = {"Content-Type": "application/json",
               "Stripe-Signature": signature if signature is not None else helpers.stripe_signature(payload)}
    return client.simulate_post("/v1/billing/webhook", body=payload, headers=headers)


def test_checkout_creates_a_session_through_the_gateway(client, auth, stores, tokens):
    result = client.simulate_post("/v1/billing/checkout", json={"tier": "ultra"}, headers=auth)
    assert result.status_code == 201
    assert result.json["url"].startswith("https://checkout.stripe.test/")
    call = stores.gateway.calls[0]
    assert call["price_id"] == "price_autobuy_ultra" and call["user_id"] == tokens["user"]["id"]
    assert client.simulate_post("/v1/billing/checkout", json={"tier": "free"},
                                headers=auth).status_code == 422


def test_subscription_lifecycle_updates_billing_and_tier(client, auth, stores, tokens):
    uid = tokens["user"]["id"]
    assert client.simulate_get("/v1/billing", headers=auth).json["tier"] == "free"
    assert post_event(client, event("evt_1", "customer.subscription.created", subscription(uid))).json == {
        "received": True, "duplicate": False}
    billing = client.simulate_get("/v1/billing", headers=auth).json
    assert billing["tier"] == "pro" and billing["status"] == "active"
    assert billing["amount"] == "9.99" and billing["currency"] == "EUR" and billing["has_customer"]
    assert client.simulate_get("/v1/me", headers=auth).json["limits"]["item_limit"] == 50
    assert stores.items.mirror[uid].tier == "pro"

    post_event(client, event("evt_2", "customer.subscription.updated",
                             subscription(uid, price="price_autobuy_ultra")))
    assert client.simulate_get("/v1/me", headers=auth).json["limits"]["auto_buy"] is True

    # payment failed: found by customer id, tier drops, status past_due
    post_event(client, event("evt_3", "invoice.payment_failed", {"id": "in_1", "customer": "cus_123"}))
    billing = client.simulate_get("/v1/billing", headers=auth).json
    assert billing["tier"] == "free" and billing["status"] == "past_due"

    post_event(client, event("evt_4", "customer.subscription.updated", subscription(uid)))
    post_event(client, event("evt_5", "customer.subscription.deleted", subscription(uid, status="canceled")))
    billing = client.simulate_get("/v1/billing", headers=auth).json
    assert billing["tier"] == "free" and billing["status"] == "canceled"


@pytest.mark.parametrize(("status", "tier"), [("trialing", "ultra"), ("unpaid", "free"),
                                           ("incomplete", "free"), ("paused", "free")])
def test_a_subscription_gives_its_tier_only_while_paid(client, auth, tokens, status, tier):
    # Stripe's statuses: active and trialing are paid; in any other the user is on free
    uid = tokens["user"]["id"]
    post_event(client, event("evt_1", "customer.subscription.updated",
                             subscription(uid, price="price_autobuy_ultra", status=status)))
    billing = client.simulate_get("/v1/billing", headers=auth).json
    assert billing["tier"] == tier
    assert billing["status"] == ("canceled" if status == "paused" else status)


def test_replayed_event_changes_nothing(client, auth, tokens):
    uid = tokens["user"]["id"]
    created = event("evt_a", "customer.subscription.created", subscription(uid))
    assert post_event(client, created).json["duplicate"] is False
    post_event(client, event("evt_b", "customer.subscription.deleted", subscription(uid, status="canceled")))
    replay = post_event(client, created)
    assert replay.status_code == 200 and replay.json["duplicate"] is True
    assert client.simulate_get("/v1/billing", headers=auth).json["tier"] == "free"


@pytest.mark.parametrize("case", ["empty", "garbage", "wrong secret", "an hour old"])
def test_bad_signatures_are_refused(client, auth, tokens, case):
    # Built here, at run time, from the payload actually sent: a signature made at
    # collection time ages with the suite and would test a different case.
    payload = event("evt_x", "customer.subscription.created", subscription(tokens["user"]["id"]))
    signature = {
        "empty": lambda: "",
        "garbage": lambda: "t=1,v1=deadbeef",
        "wrong secret": lambda: helpers.stripe_signature(payload, secret="whsec_someoneelse"),
        "an hour old": lambda: helpers.stripe_signature(payload,
                                                        timestamp=int(time.time()) - 3600),
    }[case]()
    result = post_event(client, payload, signature)
    assert result.status_code == 400
    assert client.simulate_get("/v1/billing", headers=auth).json["tier"] == "free"
    # the same payload, correctly signed now, is accepted: the refusal was the signature's
    assert post_event(client, payload).status_code == 200


def test_tampered_payload_is_refused(client, tokens):
    payload = event("evt_t", "customer.subscription.created", subscription(tokens["user"]["id"]))
    signature = helpers.stripe_signature(payload)
    tampered = payload.replace(b"price_autobuy_pro", b"price_autobuy_ultra")
    assert post_event(client, tampered, signature).status_code == 400


def test_unknown_events_and_users_are_acknowledged(client):
    assert post_event(client, event("evt_u", "charge.refunded", {"id": "ch_1"})).status_code == 200
    result = post_event(client, event("evt_v", "customer.subscription.created", subscription("ghost")))
    assert result.status_code == 200


def test_unknown_price_changes_nothing(client, auth, tokens):
    post_event(client, event("evt_p", "customer.subscription.created",
                             subscription(tokens["user"]["id"], price="price_other")))
    assert client.simulate_get("/v1/billing", headers=auth).json["tier"] == "free"


def test_signature_scheme_agrees_with_the_stripe_sdk():
    """Our verifier accepts exactly what Stripe's own SDK accepts (same scheme, same secret)."""
    import stripe
    from autobuy.errors import BadInput
    from autobuy.services.billing import verify_signature

    payload = b'{"id": "evt_sdk", "type": "x", "data": {"object": {}}}'
    good = helpers.stripe_signature(payload)
    cases = [good, good + ",v1=00ff", "v1=abc," + good, helpers.stripe_signature(payload, secret="whsec_other"),
             helpers.stripe_signature(payload, timestamp=int(time.time()) - 301), "t=abc,v1=def", "garbage"]
    for header in cases:
        try:
            stripe.WebhookSignature.verify_header(payload.decode(), header, helpers.WEBHOOK_SECRET, tolerance=300)
            sdk_ok = True
        except stripe.SignatureVerificationError:
            sdk_ok = False
        try:
            verify_signature(payload, header, helpers.WEBHOOK_SECRET)
            ours_ok = True
        except BadInput:
            ours_ok = False
        assert ours_ok == sdk_ok, header


def test_stripe_gateway_posts_form_with_idempotency_key():
    """The real gateway against a loopback stand-in for api.stripe.com (no network)."""
    import http.server
    import threading
    from urllib.parse import parse_qs

    from autobuy.services.billing import StripeGateway

    seen: list[tuple[dict, dict]] = []
    paths: set[str] = set()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            seen.append((dict(self.headers), parse_qs(body)))
            paths.add(self.path)
            if len(seen) == 1:
                self.send_response(503)
                self.end_headers()
                return
            out = json.dumps({"id": "cs_test_1", "url": "https://checkout.stripe.com/c/pay/cs_test_1"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gateway = StripeGateway("sk_test_abc", api_url=f"http://127.0.0.1:{server.server_address[1]}")
        session = gateway.create_checkout_session(user_id="u1", email="a@example.com", customer_id=None,
                                                  price_id="price_pro", success_url="https://s", cancel_url="https://c")
    finally:
        server.shutdown()
    assert session.id == "cs_test_1"
    assert paths == {"/v1/checkout/sessions"}  # AUTOBUY_STRIPE_API_URL is the base, as Stripe's SDK takes it
    headers, form = seen[-1]
    assert headers["Authorization"] == "Bearer sk_test_abc" and headers["Idempotency-Key"]
    assert seen[0][0]["Idempotency-Key"] == headers["Idempotency-Key"]  # a retry is the same request
    assert form["line_items[0][price]"] == ["price_pro"] and form["customer_email"] == ["a@example.com"]
    assert form["subscription_data[metadata][user_id]"] == ["u1"]


def test_a_completed_checkout_never_undoes_a_subscription_event(client, auth, stores, settings, tokens):
    # Stripe does not order its events: the checkout's completion may be worked out while the
    # subscription's own event is applied. What the completion changes must not carry a tier
    # or status read before that (the upgrade would be lost: the web e2e run saw it).
    from autobuy.services.billing import BillingService

    uid = tokens["user"]["id"]
    service = BillingService(billing=stores.billing, users=stores.users, items=stores.items,
                             gateway=stores.gateway, settings=settings)
    completed = {"id": "cs_1", "object": "checkout.session", "customer": "cus_123",
                 "client_reference_id": uid, "metadata": {"user_id": uid}}
    change = service._change_for("checkout.session.completed", completed)
    assert change is not None and {"tier", "status"}.isdisjoint(change.updates())
    post_event(client, event("evt_s", "customer.subscription.created", subscription(uid)))
    stores.billing.apply_event("evt_c", "checkout.session.completed", change)
    billing = client.simulate_get("/v1/billing", headers=auth).json
    assert billing["tier"] == "pro" and billing["status"] == "active" and billing["has_customer"]
    assert client.simulate_get("/v1/me", headers=auth).json["limits"]["item_limit"] == 50
