#!/usr/bin/env python3
"""Stand-in for the AutoBuy Guard API: /health like the real one, nothing else.

GET /health  -> 200 {"status": "ok", "timestamp": ISO-8601, "uptime": seconds}
GET /version -> 200 {"version": $TESTAPP_VERSION}
GET /headers -> 200 {header name: value} of the request (what a load balancer passed on)
Anything else -> 404. Listens on $PORT (default 5000).
"""
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STARTED = time.monotonic()


class Handler(BaseHTTPRequestHandler):
    """Answers the two read-only endpoints with JSON."""

    def do_GET(self) -> None:  # noqa: N802 - name fixed by http.server
        if self.path == "/health":
            body = {
                "status": "ok",
                "timestamp": datetime.now(timezone.utc).isoformat(),
                "uptime": round(time.monotonic() - STARTED, 3),
            }
        elif self.path == "/headers":
            body = dict(self.headers.items())
        elif self.path == "/version":
            body = {"version": os.environ.get("TESTAPP_VERSION", "unknown")}
        else:
            self._send(404, {"error": "not found"})
            return
        self._send(200, body)

    def _send(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        print(json.dumps({"access": format % args}), flush=True)


def main() -> None:
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "5000"))), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
