"""Liveness (/health, no dependency calls), readiness (/ready) and the OpenAPI document."""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import falcon

from autobuy.errors import ServiceUnavailable
from autobuy.repositories.base import ItemRepository, UserRepository


class Health:
    public = True

    def __init__(self, started: float) -> None:
        self._started = started

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.text = json.dumps({"status": "ok",
                                "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                                "uptime": round(time.monotonic() - self._started, 3)})


class Ready:
    public = True

    def __init__(self, users: UserRepository, items: ItemRepository) -> None:
        self._checks = {"mysql": users.ping, "dynamodb": items.ping}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        results = {}
        for name, check in self._checks.items():
            try:
                check()
                results[name] = "ok"
            except Exception:  # noqa: BLE001 - any failure means not ready
                results[name] = "unavailable"
        failed = [name for name, state in results.items() if state != "ok"]
        if failed:
            raise ServiceUnavailable(f"not ready: {', '.join(failed)} unavailable")
        resp.media = {"status": "ready", "checks": results}


class OpenApi:
    public = True

    def __init__(self, document: dict) -> None:
        self._text = json.dumps(document)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.text = self._text
