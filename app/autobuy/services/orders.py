"""Auto-buy orders and alerts of the signed-in user (the engine's records, issue 6 §4).

The engine (``autobuy.engine``) creates order intents and alerts; the API lists them and
lets the user confirm or cancel a pending order through the engine's
:class:`~autobuy.engine.orders.OrderService`. Another user's order is reported exactly
like a missing one (404), a state that does not allow the action as a conflict (409).
"""
from __future__ import annotations

import base64
import binascii
from typing import Callable, Protocol

from autobuy.engine.orders import OrderError, OrderService
from autobuy.engine.store import Order, OrderStore, StoredAlert
from autobuy.errors import BadInput, Conflict, NotFound
from autobuy.models import Page


class AlertReader(Protocol):
    def alerts_page(self, user_id: str, limit: int,
                    after: str | None = None) -> tuple[list[StoredAlert], str | None]: ...


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadInput("cursor is not valid") from None


def _order_position(order: Order) -> tuple[int, str]:
    return order.created_at, order.order_id


def _after_order(cursor: str | None) -> tuple[int, str] | None:
    if not cursor:
        return None
    created, _, order_id = _decode(cursor).partition(":")
    if not created.isdigit() or not order_id.startswith("ord_"):
        raise BadInput("cursor is not valid")
    return int(created), order_id


def _after_alert(cursor: str | None) -> str | None:
    if not cursor:
        return None
    alert_id = _decode(cursor)
    if not alert_id or len(alert_id) > 512 or not alert_id.isprintable():
        raise BadInput("cursor is not valid")
    return alert_id


def _act(action: Callable[[str, str], Order], user_id: str, order_id: str) -> Order:
    """The user's action on an order: a missing (or another user's) order is 404, a state
    that does not allow the action 409."""
    try:
        return action(user_id, order_id)
    except LookupError:
        raise NotFound("no such order") from None
    except OrderError as exc:
        raise Conflict(str(exc)) from None


class OrdersApi:
    """Orders (newest first) with confirm/cancel, and alerts (newest first), per user."""

    def __init__(self, orders: OrderService, records: OrderStore, alerts: AlertReader) -> None:
        self._orders = orders
        self._records = records
        self._alerts = alerts

    def list_orders(self, user_id: str, limit: int, cursor: str | None) -> Page:
        after = _after_order(cursor)
        rows = [o for o in self._records.list_for_user(user_id)
                if after is None or _order_position(o) < after]
        page = rows[:limit]
        more = len(rows) > limit
        return Page(page, _encode("%d:%s" % _order_position(page[-1])) if more else None)

    def confirm(self, user_id: str, order_id: str) -> Order:
        return _act(self._orders.confirm, user_id, order_id)

    def cancel(self, user_id: str, order_id: str) -> Order:
        return _act(self._orders.cancel, user_id, order_id)

    def list_alerts(self, user_id: str, limit: int, cursor: str | None) -> Page:
        alerts, last = self._alerts.alerts_page(user_id, limit, _after_alert(cursor))
        return Page(alerts, _encode(last) if last else None)
