"""POST /v1/items/preview: what a check would see, fetched for real from a loopback shop."""
from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import falcon.testing
import pytest
from autobuy.app import create_app

from tests.app import helpers
from tests.app.conftest import sign_in
from tests.app.support.local import serve_http

CORPUS = Path(__file__).parent / "engine" / "corpus"


# Shops do not serve pages under 512 bytes (the engine takes those for bot walls).
_FILLER = "<p>Free delivery from 29 EUR. Returns within 30 days. Secure checkout.</p>" * 12


def _product_page(name: str, offers: list[dict]) -> bytes:
    data = {"@context": "https://schema.org", "@type": "Product", "name": name, "offers": offers}
    return (f'<!doctype html><html lang="de"><head><title>{name} | Shop</title>'
            f'<script type="application/ld+json">{json.dumps(data)}</script></head>'
            f"<body><h1>{name}</h1>{_FILLER}</body></html>").encode()


# Shopify's shape: one Product, one Offer per variant, each with the variant's URL.
_SHOPIFY_OFFERS = [
    {"@type": "Offer", "sku": "TEE-S", "url": "/products/tee?variant=111", "price": "19.00",
     "priceCurrency": "EUR", "availability": "https://schema.org/InStock"},
    {"@type": "Offer", "sku": "TEE-XL", "url": "/products/tee?variant=222", "price": "24.00",
     "priceCurrency": "EUR", "availability": "https://schema.org/OutOfStock"},
]
PAGES = {
    "/p/headphones": (200, "text/html", _product_page("Studio Headphones &amp; Case", [
        {"@type": "Offer", "price": "129.90", "priceCurrency": "EUR",
         "availability": "https://schema.org/InStock"}])),
    "/products/tee": (200, "text/html", _product_page("Tee", _SHOPIFY_OFFERS)),
    "/blocked": (403, "text/html", (CORPUS / "50-blocked-cloudflare.html").read_bytes()),
    "/about": (200, "text/html", b"<html><head><title>About us</title></head><body>"
                                 + _FILLER.encode() + b"</body></html>"),
    "/image.png": (200, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(2048)),
}


class _Shop(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = self.path.split("?", 1)[0]
        if path == "/to-internal":
            self.send_response(302)
            self.send_header("Location", "http://10.0.0.1/admin")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, kind, body = PAGES.get(path, (404, "text/html", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def shop() -> Iterator[str]:
    with serve_http(_Shop) as host:
        yield host


@pytest.fixture
def preview_client(google_keys, stores, shop) -> falcon.testing.TestClient:
    settings = helpers.settings(google_jwks_url=google_keys.url, url_allow_hosts=[shop])
    return falcon.testing.TestClient(create_app(settings, stores=stores))


@pytest.fixture
def preview_auth(preview_client) -> dict[str, str]:
    return {"Authorization": f"Bearer {sign_in(preview_client)['access_token']}"}


def preview(client, auth, url: str):
    return client.simulate_post("/v1/items/preview", json={"url": url}, headers=auth)


def test_preview_of_a_product_page_names_price_currency_and_availability(
        preview_client, preview_auth, shop, stores):
    result = preview(preview_client, preview_auth, f"http://{shop}/p/headphones")
    assert result.status_code == 200, result.text
    body = result.json
    assert {k: body[k] for k in ("outcome", "reason", "name", "price", "currency",
                                 "availability", "source")} == {
        "outcome": "ok", "reason": None, "name": "Studio Headphones & Case", "price": "129.90",
        "currency": "EUR", "availability": "in_stock", "source": "json-ld"}
    assert body["url"] == f"http://{shop}/p/headphones"
    assert stores.items.count(sign_in(preview_client)["user"]["id"]) == 0  # nothing stored


@pytest.mark.parametrize(("query", "price", "availability"), [
    ("?variant=222", "24.00", "out_of_stock"),
    ("?variant=111&utm_source=newsletter", "19.00", "in_stock"),
    ("?sku=TEE-XL", "24.00", "out_of_stock"),
    ("", "19.00", "in_stock"),  # no variant named: the best offer, as before
])
def test_a_url_naming_a_variant_previews_that_offer(preview_client, preview_auth, shop,
                                                    query, price, availability):
    body = preview(preview_client, preview_auth, f"http://{shop}/products/tee{query}").json
    assert (body["outcome"], body["price"], body["availability"]) == ("ok", price, availability)


@pytest.mark.parametrize(("path", "outcome", "reason"), [
    ("/blocked", "blocked", "blocked"),
    ("/about", "failed", "not_a_product_page"),
    ("/to-internal", "failed", "not_allowed"),
    ("/missing", "failed", "fetch_failed"),
    ("/image.png", "failed", "fetch_failed"),
])
def test_why_a_preview_could_not_tell(preview_client, preview_auth, shop, path, outcome, reason):
    result = preview(preview_client, preview_auth, f"http://{shop}{path}")
    assert result.status_code == 200, result.text
    body = result.json
    assert (body["outcome"], body["reason"], body["price"]) == (outcome, reason, None)
    assert body["detail"]
    if reason == "blocked":
        assert body["name"] is None  # a bot wall's title is not the product's name


def test_a_loopback_url_outside_the_allowlist_is_refused_before_any_request(
        preview_client, preview_auth, shop):
    host, port = shop.split(":")
    result = preview(preview_client, preview_auth, f"http://{host}:{int(port) + 1}/p/headphones")
    assert result.status_code == 422
    assert "url:" in result.json["error"]["detail"]


@pytest.mark.parametrize(("body", "needle"), [
    ({}, "missing field(s): url"),
    ({"url": 5}, "url: must be a string"),
    ({"url": "ftp://shop.example/p/1"}, "http:// or https://"),
    ({"url": "http://169.254.169.254/latest/meta-data"}, "url:"),
    ({"url": "https://shop.example/p/1", "target_price": "1"}, "unknown field(s): target_price"),
])
def test_preview_input_errors(preview_client, preview_auth, body, needle):
    result = preview_client.simulate_post("/v1/items/preview", json=body, headers=preview_auth)
    assert result.status_code == 422
    assert needle in result.json["error"]["detail"]


def test_preview_needs_a_session(preview_client, shop):
    result = preview_client.simulate_post("/v1/items/preview",
                                          json={"url": f"http://{shop}/p/headphones"})
    assert result.status_code == 401


def test_previews_and_manual_checks_share_the_rate_limit(preview_client, preview_auth, shop):
    per_hour = helpers.settings().tier("free").manual_checks_per_hour
    item = preview_client.simulate_post("/v1/items", headers=preview_auth, json={
        "url": f"http://{shop}/p/headphones", "target_price": "100", "currency": "EUR"}).json
    codes = [preview(preview_client, preview_auth, f"http://{shop}/about").status_code
             for _ in range(per_hour - 1)]
    check = preview_client.simulate_post(f"/v1/items/{item['id']}/check", headers=preview_auth)
    over = preview(preview_client, preview_auth, f"http://{shop}/about")
    assert codes == [200] * (per_hour - 1)
    assert check.status_code == 202
    assert over.status_code == 429
    assert int(over.headers["Retry-After"]) > 60
