"""The API on real stores: MariaDB (started by the fixture) and DynamoDB on the local cloud."""
from __future__ import annotations

import threading
import time
from decimal import Decimal

import falcon.testing
import pytest
from autobuy.app import create_app, real_stores
from autobuy.models import Item
from autobuy.contract import due_shard
from autobuy.repositories.dynamo import DynamoItemRepository

from tests.app import helpers
from tests.app.conftest import sign_in
from tests.app.test_billing import event, post_event, subscription

pytestmark = [pytest.mark.mysql, pytest.mark.slow]


@pytest.fixture
def stack(mysql_engine, mysql_settings, dynamo_tables, dynamodb_cloud):
    _, prefix = dynamo_tables
    settings = mysql_settings.model_copy(update={"aws_endpoint_url": dynamodb_cloud, "table_prefix": prefix})
    stores = real_stores(settings)
    stores.gateway = helpers.FakeGateway()
    return falcon.testing.TestClient(create_app(settings, stores=stores)), settings


def _item(client, auth, i: int):
    return client.simulate_post("/v1/items", headers=auth, json={
        "url": f"https://www.example-shop.de/p/{i}", "target_price": "9.99", "currency": "EUR"})


def test_ready_and_items_end_to_end(stack, dynamo_tables):
    client, settings = stack
    assert client.simulate_get("/ready").json["checks"] == {"mysql": "ok", "dynamodb": "ok"}
    tokens = sign_in(client)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    created = [_item(client, auth, i).json for i in range(3)]
    listed_resp = client.simulate_get("/v1/items", headers=auth, params={"limit": "2"})
    assert listed_resp.headers["Server-Timing"].startswith("store;dur=")  # the store's share, per request
    listed = listed_resp.json
    rest = client.simulate_get("/v1/items", headers=auth,
                               params={"limit": "2", "cursor": listed["next_cursor"]}).json
    assert {i["id"] for i in listed["items"] + rest["items"]} == {i["id"] for i in created}
    # another user's cursor is refused, and their view is empty
    other = {"Authorization": f"Bearer {sign_in(client, 'bob@example.com')['access_token']}"}
    assert client.simulate_get("/v1/items", headers=other,
                               params={"cursor": listed["next_cursor"]}).status_code == 400
    assert client.simulate_get(f"/v1/items/{created[0]['id']}", headers=other).status_code == 404
    patched = client.simulate_patch(f"/v1/items/{created[0]['id']}", headers=auth, json={"target_price": "5"})
    assert patched.json["target_price"] == "5.00"
    assert client.simulate_post(f"/v1/items/{created[0]['id']}/check", headers=auth).status_code == 202
    assert client.simulate_delete(f"/v1/items/{created[1]['id']}", headers=auth).status_code == 204
    assert client.simulate_get("/v1/me", headers=auth).json["usage"]["items"] == 2
    # the engine's view: the item row carries its due shard and next check time
    db, prefix = dynamo_tables
    raw = db.get_item(TableName=prefix + "autobuy_items",
                      Key={"itemId": {"S": created[0]["id"]}, "userId": {"S": tokens["user"]["id"]}})["Item"]
    assert raw["dueShard"]["S"] == due_shard(created[0]["id"]) and "nextCheckAt" in raw
    mirror = db.get_item(TableName=prefix + "autobuy_users", Key={"userId": {"S": tokens["user"]["id"]}})
    assert mirror["Item"]["subscriptionTier"]["S"] == "free"
    assert set(mirror["Item"]["itemIds"]["SS"]) == {created[0]["id"], created[2]["id"]}


def test_item_limit_holds_under_concurrent_requests(stack):
    """20 simultaneous creates against DynamoDB: exactly the tier's limit succeed."""
    client, settings = stack
    auth = {"Authorization": f"Bearer {sign_in(client, 'race@example.com')['access_token']}"}
    limit = settings.tier("free").item_limit
    codes: list[int] = []
    barrier = threading.Barrier(20)

    def go(i: int) -> None:
        barrier.wait()
        codes.append(_item(client, auth, i).status_code)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201] * limit + [403] * (20 - limit), codes
    listed = client.simulate_get("/v1/items", headers=auth, params={"limit": "100"}).json["items"]
    assert len(listed) == limit
    assert client.simulate_get("/v1/me", headers=auth).json["usage"]["items"] == limit


def test_history_from_dynamodb(stack, dynamo_tables):
    client, _ = stack
    db, prefix = dynamo_tables
    auth = {"Authorization": f"Bearer {sign_in(client)['access_token']}"}
    item = _item(client, auth, 1).json
    for i in range(5):
        db.put_item(TableName=prefix + "autobuy_price_history", Item={
            "itemId": {"S": item["id"]}, "checkedAt": {"N": str(1000 + i)}, "price": {"N": f"{10 + i}.5"},
            "currency": {"S": "EUR"}, "availability": {"S": "in_stock"}, "source": {"S": "json-ld"}})
    page = client.simulate_get(f"/v1/items/{item['id']}/history", headers=auth, params={"limit": "3"}).json
    assert [p["checked_at"] for p in page["items"]] == [1004, 1003, 1002]
    assert page["items"][0]["price"] == "14.50"
    rest = client.simulate_get(f"/v1/items/{item['id']}/history", headers=auth,
                               params={"limit": "3", "cursor": page["next_cursor"]}).json
    assert [p["checked_at"] for p in rest["items"]] == [1001, 1000]


def test_webhook_and_refresh_on_mysql(stack, dynamo_tables):
    client, _ = stack
    tokens = sign_in(client)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    payload = event("evt_stack", "customer.subscription.created",
                    subscription(tokens["user"]["id"], price="price_autobuy_ultra"))
    assert post_event(client, payload).json["duplicate"] is False
    assert post_event(client, payload).json["duplicate"] is True
    assert client.simulate_get("/v1/billing", headers=auth).json["tier"] == "ultra"
    db, prefix = dynamo_tables
    mirror = db.get_item(TableName=prefix + "autobuy_users", Key={"userId": {"S": tokens["user"]["id"]}})
    assert mirror["Item"]["subscriptionTier"]["S"] == "ultra"
    rotated = client.simulate_post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    assert client.simulate_post("/v1/auth/refresh",
                                json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert client.simulate_post("/v1/auth/refresh",
                                json={"refresh_token": rotated.json["refresh_token"]}).status_code == 401


def test_ready_names_mysql_when_it_is_down(dynamo_tables, dynamodb_cloud, google_keys):
    _, prefix = dynamo_tables
    from tests.conftest import free_port
    settings = helpers.settings(db_port=free_port(), aws_endpoint_url=dynamodb_cloud, table_prefix=prefix,
                                google_jwks_url=google_keys.url)
    client = falcon.testing.TestClient(create_app(settings, stores=real_stores(settings)))
    result = client.simulate_get("/ready")
    assert result.status_code == 503 and "mysql" in result.json["error"]["detail"]
    assert "dynamodb" not in result.json["error"]["detail"]


def test_repository_create_is_conditional(dynamo_tables):
    db, prefix = dynamo_tables
    repo = DynamoItemRepository(db, prefix)
    now = int(time.time())
    item = Item(item_id="fixed", user_id="u1", url="https://a.example/x", title=None,
                target_price=Decimal("1.00"), currency="EUR", auto_buy=False, status="active",
                created_at=now, updated_at=now)
    repo.create(item, item_limit=5)
    repo.create(item, item_limit=5)  # the same item again (an SDK retry): idempotent
    from dataclasses import replace

    from autobuy.errors import Conflict
    with pytest.raises(Conflict):
        repo.create(replace(item, url="https://b.example/y"), item_limit=5)
    assert repo.count("u1") == 1 and repo.get("u1", "fixed").url == "https://a.example/x"
    # retried calls (the first attempt succeeded, its answer was lost) count once
    repo._reserve_slot("u1", "fixed", 5)
    assert repo.count("u1") == 1
    assert repo.delete("u1", "fixed") and repo.count("u1") == 0
    repo._release_slot("u1", "fixed")
    assert repo.count("u1") == 0
