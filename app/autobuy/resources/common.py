"""Request parsing and response shaping shared by resources."""
from __future__ import annotations

import json
from typing import Any

import falcon

from autobuy.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from autobuy.models import Billing, Item, Page, PricePoint
from autobuy.services.preview import Preview


def read_body(req: falcon.Request, max_bytes: int) -> bytes:
    """The raw body, at most ``max_bytes`` (chunked bodies are bounded too)."""
    data = req.bounded_stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the body may be at most {max_bytes} bytes")
    return data


def read_json(req: falcon.Request, max_bytes: int) -> Any:
    if req.content_type is None or req.content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    raw = read_body(req, max_bytes)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not valid JSON") from None


def json_object(req: falcon.Request, max_bytes: int) -> dict[str, Any]:
    body = read_json(req, max_bytes)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def client_ip(req: falcon.Request) -> str:
    """The client address: the right-most X-Forwarded-For entry (the one the ALB added)."""
    forwarded = req.get_header("X-Forwarded-For")
    if forwarded:
        return forwarded.split(",")[-1].strip() or req.remote_addr or "unknown"
    return req.remote_addr or "unknown"


def money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def item_json(item: Item) -> dict[str, Any]:
    return {
        "id": item.item_id, "url": item.url, "title": item.title,
        "target_price": money(item.target_price), "currency": item.currency,
        "auto_buy": item.auto_buy, "status": item.status, "created_at": item.created_at,
        "updated_at": item.updated_at, "last_checked": item.last_checked or None,
        "next_check_at": item.next_check_at, "current_price": money(item.current_price),
        "availability": item.availability, "check_requested_at": item.check_requested_at,
        "alert_drop_percent": None if item.alert_drop_percent is None else str(item.alert_drop_percent),
        "alert_back_in_stock": item.alert_back_in_stock,
        "last_outcome": item.last_outcome, "last_reason": item.last_reason,
        "last_attempt_at": item.last_attempt_at, "first_price": money(item.first_price),
        "first_price_at": item.first_price_at,
    }


def preview_json(preview: Preview) -> dict[str, Any]:
    return {"url": preview.url, "outcome": preview.outcome, "reason": preview.reason,
            "detail": preview.detail, "name": preview.name, "price": money(preview.price),
            "currency": preview.currency, "availability": preview.availability,
            "source": preview.source, "checked_at": preview.checked_at}


def point_json(point: PricePoint) -> dict[str, Any]:
    return {"checked_at": point.checked_at, "price": money(point.price), "currency": point.currency,
            "availability": point.availability, "source": point.source}


def page_json(page: Page, shape) -> dict[str, Any]:
    return {"items": [shape(row) for row in page.items], "next_cursor": page.next_cursor}


def billing_json(tier: str, billing: Billing | None) -> dict[str, Any]:
    return {
        "tier": tier,
        "status": billing.status if billing else None,
        "has_customer": bool(billing and billing.stripe_customer_id),
        "amount": money(billing.amount) if billing else None,
        "currency": billing.currency if billing else None,
        "current_period_end": billing.current_period_end.isoformat() + "Z"
        if billing and billing.current_period_end else None,
    }
