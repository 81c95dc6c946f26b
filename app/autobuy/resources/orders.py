"""Auto-buy orders (list, confirm, cancel) and fired alerts of the signed-in user."""
from __future__ import annotations

from typing import Any

import falcon

from autobuy.engine.orders import order_json
from autobuy.engine.store import StoredAlert
from autobuy.resources.common import money, page_json
from autobuy.services.items import page_limit
from autobuy.services.orders import OrdersApi


def alert_json(alert: StoredAlert) -> dict[str, Any]:
    event = alert.event
    return {"id": alert.alert_id, "item_id": alert.item_id, "kind": event.kind,
            "price": money(event.price), "currency": event.currency, "crossing": event.crossing,
            "created_at": alert.created_at, "deliveries": dict(alert.deliveries)}


class _Base:
    def __init__(self, orders: OrdersApi) -> None:
        self._orders = orders


class Orders(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        page = self._orders.list_orders(req.context.user_id, page_limit(req.get_param("limit")),
                                        req.get_param("cursor"))
        resp.media = page_json(page, order_json)


class OrderConfirm(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, order_id: str) -> None:
        resp.media = order_json(self._orders.confirm(req.context.user_id, order_id))


class OrderCancel(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, order_id: str) -> None:
        resp.media = order_json(self._orders.cancel(req.context.user_id, order_id))


class Alerts(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        page = self._orders.list_alerts(req.context.user_id, page_limit(req.get_param("limit")),
                                        req.get_param("cursor"))
        resp.media = page_json(page, alert_json)
