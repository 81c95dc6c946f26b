"""Billing: state, Stripe Checkout and the Stripe webhook."""
from __future__ import annotations

import falcon

from autobuy.config import Settings
from autobuy.resources.common import billing_json, json_object, read_body
from autobuy.services.billing import BillingService
from autobuy.services.items import ItemService


class BillingState:
    def __init__(self, billing: BillingService, items: ItemService) -> None:
        self._billing = billing
        self._items = items

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        user = self._items.user(req.context.user_id)
        resp.media = billing_json(user.tier, self._billing.get(user))


class Checkout:
    def __init__(self, billing: BillingService, items: ItemService, settings: Settings) -> None:
        self._billing = billing
        self._items = items
        self._settings = settings

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = json_object(req, self._settings.max_body_bytes)
        session = self._billing.checkout(self._items.user(req.context.user_id), body.get("tier"))
        resp.status = falcon.HTTP_201
        resp.media = {"id": session.id, "url": session.url}


class Webhook:
    public = True  # authenticated by Stripe's signature instead of a token

    def __init__(self, billing: BillingService, settings: Settings) -> None:
        self._billing = billing
        self._settings = settings

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        payload = read_body(req, self._settings.max_body_bytes)
        applied = self._billing.handle_webhook(payload, req.get_header("Stripe-Signature"))
        resp.media = {"received": True, "duplicate": not applied}
