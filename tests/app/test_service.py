"""Health, readiness, the OpenAPI document, error shape, CORS, security headers, body limits."""
from __future__ import annotations

import falcon.testing
from autobuy.app import create_app
from openapi_spec_validator import validate

from tests.app import helpers


def test_health_shape_and_no_dependency_calls(settings):
    stores = helpers.memory_stores()
    stores.users.down = stores.items.down = True
    client = falcon.testing.TestClient(create_app(settings, stores=stores))
    result = client.simulate_get("/health")
    assert result.status_code == 200
    assert set(result.json) == {"status", "timestamp", "uptime"} and result.json["status"] == "ok"


def test_ready_names_what_failed(settings):
    stores = helpers.memory_stores()
    client = falcon.testing.TestClient(create_app(settings, stores=stores))
    assert client.simulate_get("/ready").json == {"status": "ready",
                                                  "checks": {"mysql": "ok", "dynamodb": "ok"}}
    stores.items.down = True
    result = client.simulate_get("/ready")
    assert result.status_code == 503
    assert "dynamodb" in result.json["error"]["detail"] and "mysql" not in result.json["error"]["detail"]
    stores.users.down = True
    assert "mysql, dynamodb" in client.simulate_get("/ready").json["error"]["detail"]


def test_openapi_is_valid_3_1_and_lists_every_route(client):
    doc = client.simulate_get("/openapi.json").json
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    for path in ("/health", "/ready", "/v1/auth/google", "/v1/auth/dev", "/v1/auth/refresh",
                 "/v1/auth/logout", "/v1/me", "/v1/items", "/v1/items/{item_id}",
                 "/v1/items/{item_id}/history", "/v1/items/{item_id}/check", "/v1/billing",
                 "/v1/billing/checkout", "/v1/billing/webhook"):
        assert path in doc["paths"], path


def test_one_error_shape_with_request_id(client):
    result = client.simulate_get("/no/such/route", headers={"X-Request-ID": "abc12345-req"})
    assert result.status_code == 404
    assert result.json["error"]["request_id"] == "abc12345-req" == result.headers["X-Request-ID"]
    assert set(result.json["error"]) == {"status", "title", "detail", "request_id"}
    bad_id = client.simulate_get("/health", headers={"X-Request-ID": "<script>"})
    assert bad_id.headers["X-Request-ID"] != "<script>"


def test_unexpected_errors_are_500_in_the_same_shape(settings):
    stores = helpers.memory_stores()

    def boom(*args, **kwargs):
        raise RuntimeError("database exploded: password=hunter2")

    stores.items.list = boom
    client = falcon.testing.TestClient(create_app(settings, stores=stores))
    auth = {"Authorization": "Bearer " + client.simulate_post(
        "/v1/auth/dev", json={"email": "a@example.com"}).json["access_token"]}
    result = client.simulate_get("/v1/items", headers=auth)
    assert result.status_code == 500
    assert "hunter2" not in result.text and result.json["error"]["request_id"]


def test_body_size_limit(google_keys):
    client = falcon.testing.TestClient(create_app(helpers.settings(max_body_bytes=1024),
                                                  stores=helpers.memory_stores()))
    result = client.simulate_post("/v1/auth/dev", body="{" + " " * 2000 + "}",
                                  headers={"Content-Type": "application/json"})
    assert result.status_code == 413 and result.json["error"]["title"] == "Payload too large"


def test_cors_for_the_configured_origin_only(client):
    origin = "https://app.autobuyguard.store"
    pre = client.simulate_options("/v1/items", headers={"Origin": origin,
                                                        "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Allow-Origin"] == origin
    assert "Authorization" in pre.headers["Access-Control-Allow-Headers"]
    evil = client.simulate_options("/v1/items", headers={"Origin": "https://evil.example",
                                                         "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in evil.headers
    assert client.simulate_get("/health", headers={"Origin": origin}).headers[
        "Access-Control-Allow-Origin"] == origin


def test_security_headers(client):
    headers = client.simulate_get("/health").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"
