"""Tracked items through the HTTP API, on in-memory fakes."""
from __future__ import annotations

import threading
from decimal import Decimal

import falcon.testing
import pytest
from autobuy.app import create_app
from autobuy.models import PricePoint

from tests.app import helpers
from tests.app.conftest import sign_in

ITEM = {"url": "https://www.amazon.de/dp/B0TEST1234", "target_price": "199.99", "currency": "EUR",
        "title": "Headphones"}


def create(client, auth, **overrides):
    return client.simulate_post("/v1/items", json={**ITEM, **overrides}, headers=auth)


def test_create_get_patch_delete(client, auth, stores):
    created = create(client, auth)
    assert created.status_code == 201
    item = created.json
    assert created.headers["Location"] == f"/v1/items/{item['id']}"
    assert item["target_price"] == "199.99" and item["currency"] == "EUR" and not item["auto_buy"]
    got = client.simulate_get(f"/v1/items/{item['id']}", headers=auth)
    assert got.status_code == 200 and got.json == item
    patched = client.simulate_patch(f"/v1/items/{item['id']}", headers=auth,
                                    json={"target_price": "149.5", "status": "paused"})
    assert patched.status_code == 200
    assert patched.json["target_price"] == "149.50" and patched.json["status"] == "paused"
    assert client.simulate_delete(f"/v1/items/{item['id']}", headers=auth).status_code == 204
    assert client.simulate_get(f"/v1/items/{item['id']}", headers=auth).status_code == 404
    assert client.simulate_delete(f"/v1/items/{item['id']}", headers=auth).status_code == 404
    assert client.simulate_get("/v1/me", headers=auth).json["usage"]["items"] == 0


@pytest.mark.parametrize("overrides,needle", [
    ({"url": "http://127.0.0.1/admin"}, "loopback"),
    ({"url": "http://169.254.169.254/latest/meta-data/"}, "metadata"),
    ({"url": "http://2852039166/"}, "url"),
    ({"url": "http://10.0.0.5/x"}, "private"),
    ({"url": "ftp://shop.example.com/x"}, "http"),
    ({"url": "https://user:pw@shop.example.com/x"}, "url"),
    ({"url": "https://shop.example.com/" + "a" * 2100}, "url"),
    ({"target_price": "-5"}, "target_price"),
    ({"target_price": "0"}, "target_price"),
    ({"target_price": "1.999"}, "target_price"),
    ({"target_price": "abc"}, "target_price"),
    ({"target_price": True}, "target_price"),
    ({"currency": "EURO"}, "currency"),
    ({"currency": "XYZ"}, "currency"),
    ({"url": None}, "missing"),
    ({"colour": "red"}, "unknown"),
])
def test_create_validation(client, auth, overrides, needle):
    result = create(client, auth, **overrides)
    assert result.status_code == 422, result.text
    assert needle in result.json["error"]["detail"].lower()


def test_numeric_price_accepted(client, auth):
    assert create(client, auth, target_price=25).json["target_price"] == "25.00"


def test_body_must_be_json(client, auth):
    result = client.simulate_post("/v1/items", body="url=x", headers={**auth, "Content-Type": "text/plain"})
    assert result.status_code == 415
    result = client.simulate_post("/v1/items", body="{nope", headers={**auth, "Content-Type": "application/json"})
    assert result.status_code == 400


def test_pagination(client, auth, settings, stores):
    for i in range(5):
        assert create(client, auth, url=f"https://shop.example.com/p/{i}").status_code == 201
    seen, cursor = [], None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = client.simulate_get("/v1/items", params=params, headers=auth).json
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5
    assert client.simulate_get("/v1/items", params={"limit": "0"}, headers=auth).status_code == 422
    assert client.simulate_get("/v1/items", params={"cursor": "@@"}, headers=auth).status_code == 400


def test_item_limit_per_tier(client, auth, settings):
    limit = settings.tier("free").item_limit
    codes = [create(client, auth, url=f"https://shop.example.com/{i}").status_code for i in range(limit + 1)]
    assert codes == [201] * limit + [403]
    result = create(client, auth, url="https://shop.example.com/over")
    assert result.json["error"]["title"] == "Tier limit reached"


def test_item_limit_holds_under_concurrency(settings, stores):
    """Many threads creating at once never exceed the limit (the fake's contract)."""
    client = falcon.testing.TestClient(create_app(settings, stores=stores))
    auth = {"Authorization": f"Bearer {sign_in(client)['access_token']}"}
    codes: list[int] = []
    barrier = threading.Barrier(20)

    def worker(i: int) -> None:
        barrier.wait()
        codes.append(create(client, auth, url=f"https://shop.example.com/c{i}").status_code)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes.count(201) == settings.tier("free").item_limit
    assert codes.count(403) == 20 - settings.tier("free").item_limit


def test_auto_buy_only_for_ultra(client, auth, stores, tokens):
    assert create(client, auth, auto_buy=True).status_code == 403
    stores.users.set_tier(tokens["user"]["id"], "ultra")
    assert create(client, auth, auto_buy=True).json["auto_buy"] is True


def test_other_users_items_are_404(client, auth):
    item = create(client, auth).json
    other = {"Authorization": f"Bearer {sign_in(client, 'bob@example.com')['access_token']}"}
    for method, path in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/history"),
                         ("POST", "/check")]:
        kwargs = {"json": {"title": "mine now"}} if method == "PATCH" else {}
        result = client.simulate_request(method, f"/v1/items/{item['id']}{path}", headers=other, **kwargs)
        assert result.status_code == 404, (method, path)
    assert client.simulate_get("/v1/items", headers=other).json["items"] == []
    assert client.simulate_get(f"/v1/items/{item['id']}", headers=auth).json["title"] == "Headphones"


def test_history_newest_first_paginated(client, auth, stores):
    item = create(client, auth).json
    stores.items.history_rows[item["id"]] = [
        PricePoint(checked_at=1000 + i, price=Decimal("10.00") + i, currency="EUR",
                   availability="in_stock", source="json-ld") for i in range(3)]
    page = client.simulate_get(f"/v1/items/{item['id']}/history", params={"limit": "2"}, headers=auth).json
    assert [p["checked_at"] for p in page["items"]] == [1002, 1001]
    assert page["items"][0]["price"] == "12.00"
    rest = client.simulate_get(f"/v1/items/{item['id']}/history",
                               params={"limit": "2", "cursor": page["next_cursor"]}, headers=auth).json
    assert [p["checked_at"] for p in rest["items"]] == [1000] and rest["next_cursor"] is None


def test_check_enqueues_and_is_rate_limited(client, auth, stores, settings):
    item = create(client, auth).json
    per_hour = settings.tier("free").manual_checks_per_hour
    codes = [client.simulate_post(f"/v1/items/{item['id']}/check", headers=auth).status_code
             for _ in range(per_hour + 1)]
    assert codes == [202] * per_hour + [429]
    assert len(stores.queue.sent) == per_hour
    last = client.simulate_post(f"/v1/items/{item['id']}/check", headers=auth)
    assert int(last.headers["Retry-After"]) > 60
    assert stores.items.get(stores.queue.sent[0][0], item["id"]).check_requested_at is not None


def test_check_rate_limited_per_ip(google_keys, stores):
    s = helpers.settings(google_jwks_url=google_keys.url, check_per_minute_ip=2)
    client = falcon.testing.TestClient(create_app(s, stores=stores))
    auth = {"Authorization": f"Bearer {sign_in(client)['access_token']}"}
    item = create(client, auth).json
    codes = [client.simulate_post(f"/v1/items/{item['id']}/check", headers=auth).status_code for _ in range(3)]
    assert codes == [202, 202, 429]


def test_me_shows_tier_limits_and_usage(client, auth):
    create(client, auth)
    me = client.simulate_get("/v1/me", headers=auth).json
    assert me["user"]["tier"] == "free"
    assert me["limits"] == {"item_limit": 5, "check_interval_minutes": 360, "history_days": 30,
                            "manual_checks_per_hour": 5, "auto_buy": False}
    assert me["usage"] == {"items": 1}


def test_alert_options_set_changed_and_cleared(client, auth, stores):
    created = create(client, auth, alert_drop_percent="12.5", alert_back_in_stock=True).json
    assert created["alert_drop_percent"] == "12.5" and created["alert_back_in_stock"] is True
    url = f"/v1/items/{created['id']}"
    patched = client.simulate_patch(url, headers=auth, json={"alert_drop_percent": 20}).json
    assert patched["alert_drop_percent"] == "20" and patched["alert_back_in_stock"] is True
    cleared = client.simulate_patch(url, headers=auth, json={"alert_drop_percent": None}).json
    assert cleared["alert_drop_percent"] is None and cleared["target_price"] == "199.99"
    plain = create(client, auth).json
    assert plain["alert_drop_percent"] is None and plain["alert_back_in_stock"] is False


@pytest.mark.parametrize("body,needle", [
    ({"alert_drop_percent": "0"}, "alert_drop_percent"),
    ({"alert_drop_percent": "100"}, "alert_drop_percent"),
    ({"alert_drop_percent": "-5"}, "alert_drop_percent"),
    ({"alert_drop_percent": "5.555"}, "alert_drop_percent"),
    ({"alert_drop_percent": True}, "alert_drop_percent"),
    ({"alert_back_in_stock": "yes"}, "alert_back_in_stock"),
])
def test_alert_option_validation(client, auth, body, needle):
    item = create(client, auth).json
    result = client.simulate_patch(f"/v1/items/{item['id']}", headers=auth, json=body)
    assert result.status_code == 422 and needle in result.json["error"]["detail"]
