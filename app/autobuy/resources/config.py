"""GET /v1/config: what a client needs before anyone signs in (nothing secret)."""
from __future__ import annotations

from typing import Any

import falcon

from autobuy.config import TIERS, Settings


def public_config(settings: Settings) -> dict[str, Any]:
    """The Google client id (public by design: it is in every sign-in page), whether
    development sign-in is routed, and each tier's limits."""
    return {"google_client_id": settings.google_client_id, "dev_signin": settings.dev_signin,
            "tiers": {name: settings.tier(name).model_dump() for name in TIERS}}


class PublicConfig:
    public = True

    def __init__(self, settings: Settings) -> None:
        self._body = public_config(settings)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self._body
