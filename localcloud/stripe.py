"""A Stripe stand-in, served by the local cloud under ``/stripe`` (no network to Stripe).

The API reaches it through its Stripe base URL setting
(``AUTOBUY_STRIPE_API_URL=http://127.0.0.1:PORT/stripe``); nothing in the API knows it is
not Stripe. What it answers, in Stripe's shapes (API version 2024-06-20):

    POST   /stripe/v1/webhook_endpoints          url, enabled_events[] -> endpoint with its ``secret``
    GET    /stripe/v1/webhook_endpoints          list (no secrets, as Stripe)
    DELETE /stripe/v1/webhook_endpoints/{id}
    POST   /stripe/v1/checkout/sessions          mode=subscription, line_items[0][price], ...
    GET    /stripe/v1/checkout/sessions/{id}
    POST   /stripe/v1/subscriptions/{id}          cancel_at_period_end (-> customer.subscription.updated)
    DELETE /stripe/v1/subscriptions/{id}          cancel now (-> customer.subscription.deleted)
    GET    /stripe/v1/events                      newest first
    GET    /stripe/checkout/{id}                  the payment page a session's ``url`` names
    POST   /stripe/checkout/{id}/pay | /cancel    what its two buttons do

Paying creates the customer and an active monthly subscription, then sends the events
Stripe sends for a subscription checkout (``customer.created``,
``customer.subscription.created``, ``invoice.paid``, ``checkout.session.completed``) to
every webhook endpoint that enabled them, signed as Stripe signs them:
``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(endpoint secret, "<t>.<body>")>``.
Delivery runs in a thread and is retried (1, 2, 4, 8 s) on a non-2xx answer or a network
error, as Stripe retries; an event's ``pending_webhooks`` counts the deliveries still owed. Cancelling sends nothing (Stripe sends nothing either) and goes
to the session's ``cancel_url``.

Every call needs ``Authorization: Bearer sk_...`` (any such key). Prices are
``LOCALCLOUD_STRIPE_PRICES`` (``id=amount:currency`` pairs, amount in the currency's minor
unit); a session for another price is refused as Stripe refuses an unknown one. State is
in memory, like the rest of the local cloud.
"""
from __future__ import annotations

import hashlib
import hmac
import html
import http.client
import json
import logging
import re
import secrets
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from localcloud.tlsclient import ResolvedHTTPSConnection

log = logging.getLogger("localcloud.stripe")

PREFIX = "/stripe"
API_VERSION = "2024-06-20"
DEFAULT_PRICES = "price_autobuy_pro=900:eur,price_autobuy_ultra=2900:eur"
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)
_MAX_BODY = 256 * 1024
_REASONS = {200: "OK", 303: "See Other", 400: "Bad Request", 401: "Unauthorized",
            404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large"}


class StripeError(Exception):
    def __init__(self, status: int, message: str, *, code: str | None = None,
                 kind: str = "invalid_request_error", param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.kind, self.param = status, code, kind, param

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.kind, "message": str(self)}
        if self.code:
            error["code"] = self.code
        if self.param:
            error["param"] = self.param
        return {"error": error}


def prices_from(raw: str) -> dict[str, dict[str, Any]]:
    """``LOCALCLOUD_STRIPE_PRICES``: ``price_id=amount:currency`` pairs, comma-separated."""
    prices: dict[str, dict[str, Any]] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        match = re.fullmatch(r"([A-Za-z0-9_]+)=(\d+):([a-z]{3})", part)
        if not match:
            raise SystemExit(f"localcloud: LOCALCLOUD_STRIPE_PRICES: {part!r} is not "
                             "PRICE_ID=AMOUNT:currency (e.g. price_autobuy_pro=900:eur)")
        price_id, amount, currency = match.groups()
        prices[price_id] = {"id": price_id, "object": "price", "active": True, "currency": currency,
                            "unit_amount": int(amount), "type": "recurring", "livemode": False,
                            "recurring": {"interval": "month", "interval_count": 1}}
    return prices


def parse_form(body: bytes) -> dict[str, Any]:
    """Stripe's form encoding: ``a[b][0][c]=v`` -> {"a": {"b": [{"c": "v"}]}}; ``a[]=v`` appends."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
        match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
        if not match:
            raise StripeError(400, f"Invalid parameter name: {key}", param=key)
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            following = None if last else parts[i + 1]
            fresh: Any = value if last else ([] if following == "" or following.isdigit() else {})
            if isinstance(node, list):
                index = len(node) if part == "" else int(part) if part.isdigit() else None
                if index is None:
                    raise StripeError(400, f"Invalid array index in {key}", param=key)
                while len(node) <= index:
                    node.append(None)
                if last or node[index] is None:
                    node[index] = fresh
                node = node[index]
            else:
                if last or part not in node:
                    node[part] = fresh
                node = node[part]
    return root


def signature_header(secret: str, payload: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


class StripeStandIn:
    """The WSGI app mounted at ``/stripe`` by :class:`localcloud.app.LocalCloudApp`."""

    def __init__(self, prices: dict[str, dict[str, Any]] | None = None, *,
                 retry_delays: Iterable[float] = RETRY_DELAYS,
                 ca_file: Callable[[], str | None] | None = None,
                 resolve: Callable[[str, int], tuple[str, int] | None] | None = None) -> None:
        if prices is None:
            from localcloud.settings import stripe_prices

            prices = stripe_prices()
        self.prices = prices
        self._retry_delays = tuple(retry_delays)
        self._ca_file = ca_file or _twin_ca_file
        self._resolve = resolve or _twin_address
        self._lock = threading.RLock()
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self._idempotent: dict[tuple[str, str], tuple[bytes, dict[str, Any]]] = {}

    # ---- WSGI ------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "")[len(PREFIX):] or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        try:
            body = _read_body(environ)
            if path.startswith("/checkout/"):
                return self._page(environ, start_response, method, path, body)
            _authorize(environ)
            result = self._api(environ, method, path, body)
        except StripeError as exc:
            return _send(start_response, exc.status, json.dumps(exc.body()).encode(), "application/json")
        return _send(start_response, 200, json.dumps(result).encode(), "application/json")

    def _api(self, environ: dict[str, Any], method: str, path: str, body: bytes) -> dict[str, Any]:
        form = parse_form(body) if body else {}
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        if method == "POST" and key:
            with self._lock:
                seen = self._idempotent.get((path, key))
                if seen is not None:
                    if seen[0] != body:
                        raise StripeError(400, "Keys for idempotent requests can only be used with the "
                                          "same parameters they were first used with.",
                                          kind="idempotency_error")
                    return seen[1]
        result = self._route(environ, method, path, form)
        if method == "POST" and key:
            with self._lock:
                self._idempotent[(path, key)] = (body, result)
        return result

    def _route(self, environ: dict[str, Any], method: str, path: str, form: dict[str, Any]) -> dict[str, Any]:
        parts = path.strip("/").split("/")
        if parts[:1] != ["v1"] or len(parts) < 2:
            raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")
        resource, rest = "/".join(parts[1:3]) if parts[1] == "checkout" else parts[1], \
            parts[3:] if parts[1] == "checkout" else parts[2:]
        handlers: dict[tuple[str, str, int], Callable[..., dict[str, Any]]] = {
            ("POST", "webhook_endpoints", 0): lambda: self._create_endpoint(form),
            ("GET", "webhook_endpoints", 0): lambda: _listing(
                [{k: v for k, v in e.items() if k != "secret"} for e in self.endpoints.values()],
                "/v1/webhook_endpoints"),
            ("DELETE", "webhook_endpoints", 1): lambda: self._delete_endpoint(rest[0]),
            ("POST", "checkout/sessions", 0): lambda: self._create_session(environ, form),
            ("GET", "checkout/sessions", 1): lambda: self._get(self.sessions, rest[0], "checkout.session"),
            ("POST", "subscriptions", 1): lambda: self._update_subscription(rest[0], form),
            ("DELETE", "subscriptions", 1): lambda: self._cancel_subscription(rest[0]),
            ("GET", "subscriptions", 1): lambda: self._get(self.subscriptions, rest[0], "subscription"),
            ("GET", "customers", 1): lambda: self._get(self.customers, rest[0], "customer"),
            ("GET", "events", 0): lambda: _listing(list(reversed(self.events)), "/v1/events"),
        }
        handler = handlers.get((method, resource, len(rest)))
        if handler is None:
            raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")
        with self._lock:
            return handler()

    # ---- API resources ---------------------------------------------------------------
    def _get(self, store: dict[str, dict[str, Any]], object_id: str, kind: str) -> dict[str, Any]:
        if object_id not in store:
            raise StripeError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param="id")
        return store[object_id]

    def _create_endpoint(self, form: dict[str, Any]) -> dict[str, Any]:
        url, events = form.get("url"), form.get("enabled_events")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise StripeError(400, "Invalid URL: url must be an http(s) URL", param="url")
        if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
            raise StripeError(400, "Missing required param: enabled_events.", param="enabled_events")
        endpoint = {"id": _new_id("we"), "object": "webhook_endpoint", "url": url,
                    "enabled_events": events, "status": "enabled", "api_version": API_VERSION,
                    "created": int(time.time()), "livemode": False,
                    "secret": "whsec_" + secrets.token_urlsafe(24)}
        self.endpoints[endpoint["id"]] = endpoint
        return endpoint

    def _delete_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        self._get(self.endpoints, endpoint_id, "webhook_endpoint")
        del self.endpoints[endpoint_id]
        return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}

    def _create_session(self, environ: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
        if form.get("mode") != "subscription":
            raise StripeError(400, "The stand-in supports mode=subscription only.", param="mode")
        items = form.get("line_items")
        if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
            raise StripeError(400, "line_items must hold one price.", param="line_items")
        price_id = items[0].get("price")
        if price_id not in self.prices:
            raise StripeError(400, f"No such price: '{price_id}'", code="resource_missing",
                              param="line_items[0][price]")
        for name in ("success_url", "cancel_url"):
            if not str(form.get(name, "")).startswith(("http://", "https://")):
                raise StripeError(400, f"Missing required param: {name}.", param=name)
        customer = form.get("customer")
        if customer is not None and customer not in self.customers:
            raise StripeError(400, f"No such customer: '{customer}'", code="resource_missing",
                              param="customer")
        price = self.prices[price_id]
        session_id = "cs_test_" + secrets.token_urlsafe(24).replace("-", "a").replace("_", "b")
        now = int(time.time())
        session = {
            "id": session_id, "object": "checkout.session", "mode": "subscription",
            "status": "open", "payment_status": "unpaid", "livemode": False,
            "url": f"{_page_base(environ)}/checkout/{session_id}",
            "success_url": form["success_url"], "cancel_url": form["cancel_url"],
            "client_reference_id": form.get("client_reference_id"),
            "customer": customer, "customer_email": form.get("customer_email"),
            "metadata": form.get("metadata") or {}, "subscription": None,
            "amount_total": price["unit_amount"], "amount_subtotal": price["unit_amount"],
            "currency": price["currency"], "created": now, "expires_at": now + 24 * 3600,
            "line_items": {"object": "list", "data": [{"price": price, "quantity": 1}]},
            "subscription_data": form.get("subscription_data") or {},
        }
        self.sessions[session_id] = session
        return _public_session(session)

    def _update_subscription(self, sub_id: str, form: dict[str, Any]) -> dict[str, Any]:
        sub = self._get(self.subscriptions, sub_id, "subscription")
        if "cancel_at_period_end" in form:
            previous = {"cancel_at_period_end": sub["cancel_at_period_end"]}
            sub["cancel_at_period_end"] = form["cancel_at_period_end"] == "true"
            self._emit("customer.subscription.updated", sub, previous)
        return sub

    def _cancel_subscription(self, sub_id: str) -> dict[str, Any]:
        sub = self._get(self.subscriptions, sub_id, "subscription")
        sub.update(status="canceled", canceled_at=int(time.time()), ended_at=int(time.time()))
        self._emit("customer.subscription.deleted", sub)
        return sub

    # ---- the payment page ------------------------------------------------------------
    def _page(self, environ: dict[str, Any], start_response: Callable[..., Any], method: str,
              path: str, body: bytes) -> list[bytes]:
        parts = path.strip("/").split("/")
        with self._lock:
            session = self.sessions.get(parts[1]) if len(parts) >= 2 else None
            if session is None:
                return _send(start_response, 404, _html_page("Checkout not found",
                             "<p>This checkout session does not exist.</p>"), "text/html; charset=utf-8")
            if len(parts) == 2 and method == "GET":
                return _send(start_response, 200, self._page_html(session), "text/html; charset=utf-8")
            if len(parts) == 3 and method == "POST" and parts[2] in ("pay", "cancel"):
                if parts[2] == "cancel":
                    return _redirect(start_response, session["cancel_url"])
                if session["status"] == "open":
                    self._complete(session)
                return _redirect(start_response, session["success_url"].replace(
                    "{CHECKOUT_SESSION_ID}", session["id"]))
        return _send(start_response, 405, _html_page("Not allowed", "<p>Use the page's buttons.</p>"),
                     "text/html; charset=utf-8")

    def _page_html(self, session: dict[str, Any]) -> bytes:
        price = session["line_items"]["data"][0]["price"]
        amount = f"{price['unit_amount'] / 100:.2f} {price['currency'].upper()}"
        email = session["customer_email"] or (self.customers.get(session["customer"] or "") or {}).get("email")
        if session["status"] != "open":
            content = "<p>This checkout is complete.</p>"
        else:
            action = f"{PREFIX}/checkout/{html.escape(session['id'])}"
            content = (
                f"<p>Subscription <strong>{html.escape(price['id'])}</strong>: "
                f"<strong>{html.escape(amount)}</strong> a month"
                f"{' for ' + html.escape(email) if email else ''}.</p>"
                f'<form method="post" action="{action}/pay"><button type="submit">Pay and subscribe</button></form>'
                f'<form method="post" action="{action}/cancel"><button type="submit">Cancel</button></form>')
        return _html_page("Checkout (Stripe stand-in)", content)

    def _complete(self, session: dict[str, Any]) -> None:
        now = int(time.time())
        customer_id = session["customer"]
        if customer_id is None:
            customer_id = _new_id("cus")
            self.customers[customer_id] = {"id": customer_id, "object": "customer", "created": now,
                                           "email": session["customer_email"], "livemode": False,
                                           "metadata": {}}
            self._emit("customer.created", self.customers[customer_id])
        price = session["line_items"]["data"][0]["price"]
        end = now + 30 * 24 * 3600
        sub_id = _new_id("sub")
        sub = {"id": sub_id, "object": "subscription", "customer": customer_id, "status": "active",
               "livemode": False, "created": now, "start_date": now, "cancel_at_period_end": False,
               "current_period_start": now, "current_period_end": end, "currency": price["currency"],
               "metadata": dict((session["subscription_data"] or {}).get("metadata") or {}),
               "items": {"object": "list", "data": [{
                   "id": _new_id("si"), "object": "subscription_item", "price": price, "quantity": 1,
                   "subscription": sub_id, "current_period_start": now, "current_period_end": end}]}}
        self.subscriptions[sub_id] = sub
        session.update(status="complete", payment_status="paid", customer=customer_id, subscription=sub_id)
        self._emit("customer.subscription.created", sub)
        self._emit("invoice.paid", {"id": _new_id("in"), "object": "invoice", "customer": customer_id,
                                    "subscription": sub_id, "status": "paid", "currency": price["currency"],
                                    "amount_paid": price["unit_amount"], "created": now})
        self._emit("checkout.session.completed", _public_session(session))

    # ---- events and their delivery ---------------------------------------------------
    def _emit(self, kind: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
        data: dict[str, Any] = {"object": json.loads(json.dumps(obj))}
        if previous is not None:
            data["previous_attributes"] = previous
        event = {"id": _new_id("evt"), "object": "event", "api_version": API_VERSION,
                 "created": int(time.time()), "type": kind, "livemode": False, "data": data,
                 "pending_webhooks": 0, "request": {"id": None, "idempotency_key": None}}
        targets = [e for e in self.endpoints.values()
                   if e["status"] == "enabled" and ("*" in e["enabled_events"] or kind in e["enabled_events"])]
        event["pending_webhooks"] = len(targets)
        self.events.append(event)
        payload = json.dumps(event).encode()
        for endpoint in targets:
            record = {"event": event["id"], "type": kind, "endpoint": endpoint["id"], "attempts": 0,
                      "status": None, "delivered": False}
            self.deliveries.append(record)
            threading.Thread(target=self._deliver, args=(endpoint, payload, record, event),
                             name=f"stripe-webhook-{event['id']}", daemon=True).start()

    def _deliver(self, endpoint: dict[str, Any], payload: bytes, record: dict[str, Any],
                 event: dict[str, Any]) -> None:
        for delay in (0.0, *self._retry_delays):
            time.sleep(delay)
            record["attempts"] += 1
            try:
                record["status"] = self._post(endpoint["url"], payload, {
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                    "Stripe-Signature": signature_header(endpoint["secret"], payload, int(time.time()))})
            except (OSError, http.client.HTTPException) as exc:
                record["status"] = f"error: {exc.__class__.__name__}"
            if isinstance(record["status"], int) and 200 <= record["status"] < 300:
                record["delivered"] = True
                with self._lock:  # as on Stripe: the event's count of deliveries still owed
                    event["pending_webhooks"] -= 1
                return
        log.warning("stripe stand-in: event %s not delivered to %s after %d attempts (last: %s)",
                    record["event"], endpoint["url"], record["attempts"], record["status"])

    def _post(self, url: str, payload: bytes, headers: dict[str, str]) -> int:
        """POST to ``url`` as Stripe on the Internet would: the host name as DNS answers it,
        which for a name the twin serves (:func:`_twin_address`) is its load balancer's
        listener on this machine; TLS for (and verified against) the URL's host name."""
        parts = urllib.parse.urlsplit(url)
        host, https = parts.hostname or "", parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        address = self._resolve(host, port) or (host, port)
        connection: http.client.HTTPConnection
        if https:
            connection = ResolvedHTTPSConnection(*address, host, self._tls(), timeout=10)
        else:
            connection = http.client.HTTPConnection(*address, timeout=10)
        try:
            connection.request("POST", parts.path + (f"?{parts.query}" if parts.query else ""),
                               payload, {**headers, "Host": parts.netloc})
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        ca = self._ca_file()
        if ca:
            context.load_verify_locations(ca)
        return context


def _twin_address(host: str, port: int) -> tuple[str, int] | None:
    """Where the twin serves ``host:port``: the load balancer it serves, under its DNS name or
    a Route 53 alias record of this local cloud that points at it (the stack's
    ``api.<domain>``), reached on the host port of the listener on ``port``. None otherwise
    (the name is looked up as usual)."""
    from localcloud import twin

    current = twin.current()
    if current is None or current.balancer is None:
        return None
    report = current.balancer.report()
    served = report.get("served") or {}
    dns_name = str(served.get("dns_name") or "").lower().rstrip(".")
    if not dns_name or host.lower().rstrip(".") not in {dns_name, *_aliases_of(dns_name)}:
        return None
    for listener in served.get("listeners", []):
        published = str(report.get(listener.get("host_port") or "", ""))
        if int(listener["port"]) == port and published:
            address, _, published_port = published.rpartition(":")
            return address, int(published_port)
    return None


def _aliases_of(dns_name: str) -> set[str]:
    """Names of the A/AAAA alias records in this local cloud's hosted zones that point at
    ``dns_name``."""
    from moto.route53.models import route53_backends

    from localcloud.route53_records import normalised

    names: set[str] = set()
    for accounts in list(route53_backends.values()):
        for backend in list(accounts.values()):
            for zone in list(backend.zones.values()):
                for record in list(zone.rrsets):
                    target = normalised(str((record.alias_target or {}).get("DNSName", "")))
                    if record.type in ("A", "AAAA") and target.removeprefix("dualstack.") == dns_name:
                        names.add(normalised(record.name))
    return names


def _twin_ca_file() -> str | None:
    """The twin's CA, so webhooks reach its load balancer's HTTPS listener."""
    from localcloud import twin

    current = twin.current()
    return str(current.ca.cert_path) if current is not None else None


def _public_session(session: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in session.items() if k not in ("line_items", "subscription_data")}


def _listing(data: list[dict[str, Any]], url: str) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": False, "url": url}


def _authorize(environ: dict[str, Any]) -> None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Bearer sk_") or len(header) < len("Bearer sk_") + 4:
        raise StripeError(401, "You did not provide a valid API key. Provide it as "
                          "'Authorization: Bearer sk_...'.")


def _page_base(environ: dict[str, Any]) -> str:
    """Where a person's browser finds the payment page (Stripe: checkout.stripe.com, not the
    API's host): the address the caller used when it is this machine's loopback, else the
    local cloud's own port on 127.0.0.1 — a twin instance calls by a name of the twin
    network (localcloud/twin/stripe_host.py) that only the twin's containers resolve."""
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    if urllib.parse.urlsplit(f"//{host}").hostname not in ("127.0.0.1", "localhost", "::1"):
        return f"http://127.0.0.1:{environ['SERVER_PORT']}{PREFIX}"
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}{PREFIX}"


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > _MAX_BODY:
        raise StripeError(413, "Request body too large.")
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _html_page(title: str, content: str) -> bytes:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title></head><body><main><h1>{html.escape(title)}</h1>"
            f"{content}</main></body></html>").encode()


def _send(start_response: Callable[..., Any], status: int, body: bytes, content_type: str) -> list[bytes]:
    start_response(f"{status} {_REASONS[status]}", [
        ("Content-Type", content_type), ("Content-Length", str(len(body))),
        ("Request-Id", "req_" + secrets.token_hex(8)), ("Stripe-Version", API_VERSION)])
    return [body]


def _redirect(start_response: Callable[..., Any], location: str) -> list[bytes]:
    start_response("303 See Other", [("Location", location), ("Content-Length", "0")])
    return [b""]

