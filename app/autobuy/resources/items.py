"""The signed-in user (/v1/me) and tracked items."""
from __future__ import annotations

import falcon

from autobuy.config import Settings
from autobuy.errors import InvalidInput
from autobuy.resources.common import (
    client_ip,
    item_json,
    json_object,
    page_json,
    point_json,
    preview_json,
)
from autobuy.services.items import ItemService, page_limit, parse_item_input


class _Base:
    def __init__(self, items: ItemService, settings: Settings) -> None:
        self._items = items
        self._settings = settings

    def _input(self, req: falcon.Request, *, partial: bool):
        return parse_item_input(json_object(req, self._settings.max_body_bytes), partial=partial,
                                allow_hosts=self._settings.url_allow_hosts)


class Me(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self._items.me(req.context.user_id)


class Items(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        page = self._items.list(req.context.user_id, page_limit(req.get_param("limit")),
                                req.get_param("cursor"))
        resp.media = page_json(page, item_json)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        item = self._items.create(req.context.user_id, self._input(req, partial=False))
        resp.status = falcon.HTTP_201
        resp.location = f"/v1/items/{item.item_id}"
        resp.media = item_json(item)


class ItemOne(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, item_id: str) -> None:
        resp.media = item_json(self._items.get(req.context.user_id, item_id))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, item_id: str) -> None:
        resp.media = item_json(self._items.update(req.context.user_id, item_id,
                                                  self._input(req, partial=True)))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, item_id: str) -> None:
        self._items.delete(req.context.user_id, item_id)
        resp.status = falcon.HTTP_204


class ItemHistory(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, item_id: str) -> None:
        page = self._items.history(req.context.user_id, item_id, page_limit(req.get_param("limit"), 50),
                                   req.get_param("cursor"))
        resp.media = page_json(page, point_json)


class ItemCheck(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, item_id: str) -> None:
        requested = self._items.request_check(req.context.user_id, item_id, client_ip(req))
        resp.status = falcon.HTTP_202
        resp.media = {"id": item_id, "check_requested_at": requested}


class ItemPreview(_Base):
    """What a check of a URL would see now (nothing stored; rate limited like checks)."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = json_object(req, self._settings.max_body_bytes)
        unknown = sorted(set(body) - {"url"})
        if unknown:
            raise InvalidInput(f"unknown field(s): {', '.join(unknown)}")
        if body.get("url") is None:
            raise InvalidInput("missing field(s): url")
        resp.media = preview_json(self._items.preview(req.context.user_id, body["url"],
                                                      client_ip(req)))
