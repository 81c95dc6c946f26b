"""The bench baseline: a bare WSGI app returning the same bodies as the API, no framework.

Loaded by gunicorn with the API's own config; bodies come from files the bench writes
(BENCH_BODIES_DIR/health.json and items.json), so both servers send identical bytes.
"""
from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

_DIR = Path(os.environ["BENCH_BODIES_DIR"])
_ITEMS = (_DIR / "items.json").read_bytes()
_STARTED = time.monotonic()


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/health":
        body = json.dumps({"status": "ok",
                           "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                           "uptime": round(time.monotonic() - _STARTED, 3)}).encode()
    elif path == "/v1/items":
        body = _ITEMS
    else:
        start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
