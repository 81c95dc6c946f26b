"""The OpenAPI 3.1 document served at /openapi.json (kept next to the code it describes)."""
from __future__ import annotations

from copy import deepcopy
from typing import Any

from autobuy.services.preview import REASONS as PREVIEW_REASONS

_ERROR = {"$ref": "#/components/responses/Error"}
_NULLABLE_STR = {"type": ["string", "null"]}
_MONEY = {"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["199.99"]}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _ERROR for code in codes}


_PAGE_PARAMS = [
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
    {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
]
_ITEM_ID = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}
_ORDER_ID = {"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}}
_PERCENT = {"type": "string", "pattern": r"^\d{1,2}(\.\d{1,2})?$", "examples": ["10", "12.5"]}
ORDER_STATES = ["pending", "confirmed", "placed", "failed", "cancelled", "expired", "rejected"]
_AUTHED = (400, 401, 413, 415, 422, 429, 503)

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {
            "type": "object", "required": ["status", "title", "detail", "request_id"],
            "additionalProperties": False,
            "properties": {"status": {"type": "integer"}, "title": {"type": "string"},
                           "detail": {"type": "string"}, "request_id": _NULLABLE_STR}}},
    },
    "Health": {
        "type": "object", "required": ["status", "timestamp", "uptime"],
        "properties": {"status": {"const": "ok"}, "timestamp": {"type": "string", "format": "date-time"},
                       "uptime": {"type": "number", "minimum": 0}},
    },
    "Ready": {
        "type": "object", "required": ["status", "checks"],
        "properties": {"status": {"const": "ready"},
                       "checks": {"type": "object", "additionalProperties": {"type": "string"}}},
    },
    "Tokens": {
        "type": "object", "additionalProperties": False,
        "required": ["access_token", "token_type", "expires_in", "user"],
        "description": "refresh_token is left out for a cookie session (session: cookie, or a "
                       "refresh through the cookie)",
        "properties": {
            "access_token": {"type": "string"}, "token_type": {"const": "Bearer"},
            "expires_in": {"type": "integer", "maximum": 900}, "refresh_token": {"type": "string"},
            "user": {"type": "object", "required": ["id", "email", "tier"],
                     "properties": {"id": {"type": "string"}, "email": {"type": "string"},
                                    "tier": {"enum": ["free", "pro", "ultra"]}}}},
    },
    "PublicConfig": {
        "type": "object", "additionalProperties": False,
        "required": ["google_client_id", "dev_signin", "tiers"],
        "properties": {
            "google_client_id": {"type": "string",
                                 "description": "for Google Identity Services on the page"},
            "dev_signin": {"type": "boolean",
                           "description": "whether POST /v1/auth/dev is routed"},
            "tiers": {"type": "object", "required": ["free", "pro", "ultra"],
                      "additionalProperties": False,
                      "properties": {t: _ref("Limits") for t in ("free", "pro", "ultra")}}},
    },
    "Limits": {
        "type": "object",
        "required": ["item_limit", "check_interval_minutes", "history_days",
                     "manual_checks_per_hour", "auto_buy"],
        "properties": {"item_limit": {"type": "integer"}, "check_interval_minutes": {"type": "integer"},
                       "history_days": {"type": "integer"}, "manual_checks_per_hour": {"type": "integer"},
                       "auto_buy": {"type": "boolean"}},
    },
    "Me": {
        "type": "object", "required": ["user", "limits", "usage"],
        "properties": {
            "user": {"type": "object", "required": ["id", "email", "name", "tier"],
                     "properties": {"id": {"type": "string"}, "email": {"type": "string"},
                                    "name": _NULLABLE_STR, "tier": {"enum": ["free", "pro", "ultra"]}}},
            "limits": _ref("Limits"),
            "usage": {"type": "object", "required": ["items"],
                      "properties": {"items": {"type": "integer", "minimum": 0}}}},
    },
    "ItemCreate": {
        "type": "object", "additionalProperties": False, "required": ["url", "target_price", "currency"],
        "properties": {
            "url": {"type": "string", "format": "uri", "maxLength": 2048,
                    "examples": ["https://shop.example/product/1"]},
            "title": {"type": ["string", "null"], "maxLength": 200},
            "target_price": {"type": "string", "pattern": r"^\d{1,10}(\.\d{1,2})?$", "examples": ["199.99"]},
            "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$", "examples": ["EUR"]},
            "auto_buy": {"type": "boolean"}, "status": {"enum": ["active", "paused"]},
            "alert_drop_percent": {"anyOf": [_PERCENT, {"type": "null"}],
                                   "description": "also alert on a drop of this many percent "
                                                  "below the highest price seen; null clears it"},
            "alert_back_in_stock": {"type": "boolean"}},
    },
    "Item": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "url", "title", "target_price", "currency", "auto_buy", "status",
                     "created_at", "updated_at", "last_checked", "next_check_at", "current_price",
                     "availability", "check_requested_at", "alert_drop_percent",
                     "alert_back_in_stock", "last_outcome", "last_reason", "last_attempt_at",
                     "first_price", "first_price_at"],
        "properties": {
            "id": {"type": "string"}, "url": {"type": "string"}, "title": _NULLABLE_STR,
            "target_price": _MONEY, "currency": {"type": "string"}, "auto_buy": {"type": "boolean"},
            "status": {"enum": ["active", "paused"]},
            "created_at": {"type": "integer", "description": "Unix seconds"},
            "updated_at": {"type": "integer"}, "last_checked": {"type": ["integer", "null"]},
            "next_check_at": {"type": "integer"},
            "current_price": {"anyOf": [_MONEY, {"type": "null"}]},
            "availability": _NULLABLE_STR, "check_requested_at": {"type": ["integer", "null"]},
            "alert_drop_percent": {"anyOf": [_PERCENT, {"type": "null"}]},
            "alert_back_in_stock": {"type": "boolean"},
            "last_outcome": {"enum": ["ok", "blocked", "failed", None],
                             "description": "the last check's outcome; null before the first. "
                                            "blocked/failed checks never change current_price"},
            "last_reason": {**_NULLABLE_STR,
                            "description": "why the last check was blocked or failed, in words"},
            "last_attempt_at": {"type": ["integer", "null"],
                                "description": "when the last check ran, whatever its outcome "
                                               "(last_checked: the last ok check)"},
            "first_price": {"anyOf": [_MONEY, {"type": "null"}],
                            "description": "the first price a check found (change since "
                                           "tracking)"},
            "first_price_at": {"type": ["integer", "null"]}},
    },
    "PreviewRequest": {
        "type": "object", "additionalProperties": False, "required": ["url"],
        "properties": {"url": {"type": "string", "format": "uri", "maxLength": 2048,
                               "examples": ["https://shop.example/products/tee?variant=222"]}},
    },
    "Preview": {
        "type": "object", "additionalProperties": False,
        "required": ["url", "outcome", "reason", "detail", "name", "price", "currency",
                     "availability", "source", "checked_at"],
        "description": "What a check of the URL sees now; nothing is stored. A URL that names "
                       "a variant (?variant=, its SKU) shows that variant's offer.",
        "properties": {
            "url": {"type": "string", "description": "the URL as it will be tracked"},
            "outcome": {"enum": ["ok", "blocked", "failed"]},
            "reason": {"anyOf": [{"enum": list(PREVIEW_REASONS)}, {"type": "null"}],
                       "description": "null when ok; blocked: a bot wall; not_a_product_page: "
                                      "no price or stock on the page; not_allowed: the URL "
                                      "guard refused a redirect or an address; fetch_failed: "
                                      "network/HTTP error, not HTML, too large, too slow"},
            "detail": {**_NULLABLE_STR, "description": "the reason in words (for people)"},
            "name": _NULLABLE_STR,
            "price": {"anyOf": [_MONEY, {"type": "null"}]},
            "currency": _NULLABLE_STR,
            "availability": {"enum": ["in_stock", "out_of_stock", "preorder", None]},
            "source": {**_NULLABLE_STR, "description": "json-ld, microdata, opengraph, "
                                                       "adapter:<shop>, generic, ..."},
            "checked_at": {"type": "integer", "description": "Unix seconds"}},
    },
    "ItemPage": {
        "type": "object", "required": ["items", "next_cursor"],
        "properties": {"items": {"type": "array", "items": _ref("Item")}, "next_cursor": _NULLABLE_STR},
    },
    "PricePoint": {
        "type": "object", "required": ["checked_at", "price", "currency", "availability", "source"],
        "properties": {"checked_at": {"type": "integer"}, "price": {"anyOf": [_MONEY, {"type": "null"}]},
                       "currency": _NULLABLE_STR, "availability": _NULLABLE_STR, "source": _NULLABLE_STR},
    },
    "HistoryPage": {
        "type": "object", "required": ["items", "next_cursor"],
        "properties": {"items": {"type": "array", "items": _ref("PricePoint")},
                       "next_cursor": _NULLABLE_STR},
    },
    "Order": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "item_id", "crossing", "price", "currency", "state", "created_at",
                     "confirm_before", "history"],
        "properties": {
            "id": {"type": "string"}, "item_id": {"type": "string"}, "crossing": {"type": "integer"},
            "price": {"type": "string", "examples": ["129.99"]}, "currency": {"type": "string"},
            "state": {"enum": ORDER_STATES},
            "created_at": {"type": "integer", "description": "Unix seconds"},
            "confirm_before": {"type": "integer", "description": "end of the confirmation window"},
            "history": {"type": "array", "items": {
                "type": "object", "required": ["at", "state", "note"],
                "properties": {"at": {"type": "integer"}, "state": {"enum": ORDER_STATES},
                               "note": {"type": "string"}}}}},
    },
    "OrderPage": {
        "type": "object", "required": ["items", "next_cursor"],
        "properties": {"items": {"type": "array", "items": _ref("Order")}, "next_cursor": _NULLABLE_STR},
    },
    "Alert": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "item_id", "kind", "price", "currency", "crossing", "created_at",
                     "deliveries"],
        "properties": {
            "id": {"type": "string"}, "item_id": {"type": "string"},
            "kind": {"enum": ["price", "drop", "back_in_stock"]},
            "price": {"anyOf": [_MONEY, {"type": "null"}]}, "currency": _NULLABLE_STR,
            "crossing": {"type": ["integer", "null"]}, "created_at": {"type": "integer"},
            "deliveries": {"type": "object", "additionalProperties": {"type": "string"},
                           "description": "channel -> sent | failed: <reason>"}},
    },
    "AlertPage": {
        "type": "object", "required": ["items", "next_cursor"],
        "properties": {"items": {"type": "array", "items": _ref("Alert")}, "next_cursor": _NULLABLE_STR},
    },
    "Billing": {
        "type": "object",
        "required": ["tier", "status", "has_customer", "amount", "currency", "current_period_end"],
        "properties": {"tier": {"enum": ["free", "pro", "ultra"]}, "status": _NULLABLE_STR,
                       "has_customer": {"type": "boolean"},
                       "amount": {"anyOf": [_MONEY, {"type": "null"}]}, "currency": _NULLABLE_STR,
                       "current_period_end": _NULLABLE_STR},
    },
}


def _op(summary: str, responses: dict[str, Any], *, public: bool = False, **extra: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": responses, **extra}
    if public:
        op["security"] = []
    return op


REFRESH_COOKIE = "__Secure-autobuy-refresh"  # resources.auth.REFRESH_COOKIE (a test compares)
_SET_COOKIE = {"required": True, "schema": {"type": "string"},
               "description": f"{REFRESH_COOKIE}: the refresh token; HttpOnly; Secure; "
                              "SameSite=Strict; Path=/v1/auth (Max-Age=0 clears it)"}
_COOKIE_PARAM = {"name": REFRESH_COOKIE, "in": "cookie", "required": False,
                 "schema": {"type": "string"}, "description": "the browser's session"}
_SESSION = {"enum": ["cookie", "body"], "default": "body",
            "description": "cookie: browsers; the refresh token only in the HttpOnly cookie, "
                           "not in the answer"}


def _signed_in() -> dict[str, Any]:
    return {**_json(_ref("Tokens")), "headers": {"Set-Cookie": _SET_COOKIE}}


def _paths(dev_signin: bool) -> dict[str, Any]:
    refresh_body = _body({"type": "object", "properties": {"refresh_token": {
        "type": "string", "minLength": 1,
        "description": "non-browser clients; without it the session cookie is used"}}})
    paths: dict[str, Any] = {
        "/health": {"get": _op("Liveness (no dependency calls)", {"200": _json(_ref("Health"))},
                               public=True)},
        "/ready": {"get": _op("Readiness: MySQL and DynamoDB reachable",
                              {"200": _json(_ref("Ready")), **_errors(503)}, public=True)},
        "/v1/auth/google": {"post": _op(
            "Sign in with a Google ID token", {"200": _signed_in(), **_errors(400, 401, 413, 415, 422, 429, 503)},
            public=True, requestBody=_body({"type": "object", "required": ["id_token"],
                                            "properties": {"id_token": {"type": "string", "minLength": 1},
                                                           "session": _SESSION}}))},
        "/v1/auth/refresh": {"post": _op(
            "Rotate a refresh token (the body's, else the session cookie's)",
            {"200": _signed_in(), **_errors(400, 401, 413, 415, 422, 429, 503)},
            public=True, parameters=[_COOKIE_PARAM], requestBody=refresh_body)},
        "/v1/auth/logout": {"post": _op(
            "Revoke the refresh token's session (the body's, else the cookie's); clears the cookie",
            {"204": {"description": "Signed out", "headers": {"Set-Cookie": _SET_COOKIE}},
             **_errors(400, 413, 415, 422, 429, 503)},
            public=True, parameters=[_COOKIE_PARAM], requestBody=refresh_body)},
        "/v1/config": {"get": _op("What a client needs before sign-in: sign-in methods, tiers' limits",
                                  {"200": _json(_ref("PublicConfig"))}, public=True)},
        "/v1/me": {"get": _op("The user, the tier's limits and usage",
                              {"200": _json(_ref("Me")), **_errors(401, 503)})},
        "/v1/items": {
            "get": _op("List tracked items (paginated)", {"200": _json(_ref("ItemPage")), **_errors(*_AUTHED)},
                       parameters=_PAGE_PARAMS),
            "post": _op("Track an item", {"201": _json(_ref("Item"), "Created"),
                                          **_errors(*_AUTHED, 403, 409)},
                        requestBody=_body(_ref("ItemCreate")))},
        "/v1/items/preview": {"post": _op(
            "What a check of a URL sees now, without tracking it (rate limited like checks)",
            {"200": _json(_ref("Preview")), **_errors(*_AUTHED)},
            requestBody=_body(_ref("PreviewRequest")))},
        "/v1/items/{item_id}": {
            "parameters": [_ITEM_ID],
            "get": _op("One item", {"200": _json(_ref("Item")), **_errors(401, 404, 503)}),
            "patch": _op("Change an item", {"200": _json(_ref("Item")), **_errors(*_AUTHED, 403, 404)},
                         requestBody=_body({**deepcopy(SCHEMAS["ItemCreate"]), "required": [],
                                            "minProperties": 1})),
            "delete": _op("Stop tracking an item", {"204": {"description": "Deleted"},
                                                    **_errors(401, 404, 503)})},
        "/v1/items/{item_id}/history": {
            "parameters": [_ITEM_ID],
            "get": _op("Price history, newest first (paginated)",
                       {"200": _json(_ref("HistoryPage")), **_errors(*_AUTHED, 404)},
                       parameters=_PAGE_PARAMS)},
        "/v1/items/{item_id}/check": {
            "parameters": [_ITEM_ID],
            "post": _op("Ask for an immediate check (rate limited)", {
                "202": _json({"type": "object", "required": ["id", "check_requested_at"],
                              "properties": {"id": {"type": "string"},
                                             "check_requested_at": {"type": "integer"}}}, "Accepted"),
                **_errors(401, 404, 429, 503)})},
        "/v1/orders": {"get": _op("Auto-buy orders, newest first (paginated)",
                                  {"200": _json(_ref("OrderPage")), **_errors(*_AUTHED)},
                                  parameters=_PAGE_PARAMS)},
        "/v1/orders/{order_id}/confirm": {
            "parameters": [_ORDER_ID],
            "post": _op("Confirm a pending order (sends it to the purchase webhook)",
                        {"200": _json(_ref("Order")), **_errors(401, 404, 409, 413, 503)})},
        "/v1/orders/{order_id}/cancel": {
            "parameters": [_ORDER_ID],
            "post": _op("Cancel a pending order",
                        {"200": _json(_ref("Order")), **_errors(401, 404, 409, 413, 503)})},
        "/v1/alerts": {"get": _op("Alerts fired for the user's items, newest first (paginated)",
                                  {"200": _json(_ref("AlertPage")), **_errors(*_AUTHED)},
                                  parameters=_PAGE_PARAMS)},
        "/v1/billing": {"get": _op("Billing state", {"200": _json(_ref("Billing")), **_errors(401, 503)})},
        "/v1/billing/checkout": {"post": _op(
            "Start a Stripe Checkout session for pro or ultra",
            {"201": _json({"type": "object", "required": ["id", "url"],
                           "properties": {"id": {"type": "string"}, "url": {"type": "string"}}}, "Created"),
             **_errors(*_AUTHED)},
            requestBody=_body({"type": "object", "required": ["tier"],
                               "properties": {"tier": {"enum": ["pro", "ultra"]}}}))},
        "/v1/billing/webhook": {"post": _op(
            "Stripe webhook (verified with the Stripe-Signature header)",
            {"200": _json({"type": "object", "required": ["received", "duplicate"],
                           "properties": {"received": {"const": True}, "duplicate": {"type": "boolean"}}}),
             **_errors(400, 413, 503)},
            public=True,
            parameters=[{"name": "Stripe-Signature", "in": "header", "required": True,
                         "schema": {"type": "string"}}],
            requestBody=_body({"type": "object"}))},
        "/openapi.json": {"get": _op("This document", {"200": _json({"type": "object"})}, public=True)},
    }
    if dev_signin:
        paths["/v1/auth/dev"] = {"post": _op(
            "Development sign-in (only when AUTOBUY_DEV_SIGNIN is on)",
            {"200": _signed_in(), **_errors(400, 413, 415, 422, 429, 503)}, public=True,
            requestBody=_body({"type": "object", "required": ["email"],
                               "properties": {"email": {"type": "string", "format": "email"},
                                              "session": _SESSION}}))}
    return paths


def document(*, dev_signin: bool = False) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "AutoBuy Guard API", "version": "1.0.0",
                 "description": "Track product prices, get alerts, and a guarded auto-buy."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": _paths(dev_signin),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": SCHEMAS,
            "responses": {"Error": {
                **_json(_ref("Error"), "Error (one shape for every status)"),
                "headers": {"Retry-After": {
                    "description": "429 and 503 (a dependency unavailable): seconds to wait",
                    "schema": {"type": "integer", "minimum": 1}}}}},
        },
    }
