"""Request ids, authentication, request logs, body limits, CORS and security headers."""
from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

import falcon

from autobuy import timing
from autobuy.errors import AuthFailed, PayloadTooLarge, Unauthorized
from autobuy.services.tokens import AccessTokens

log = logging.getLogger("autobuy.request")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestContext:
    """Assigns a request id (or keeps a sane incoming X-Request-ID) and returns it.

    gunicorn's JSON access log records every request with this id (from the response
    header); the app adds its own per-request line at DEBUG, with the user id.
    """

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        incoming = req.get_header("X-Request-ID")
        req.context.request_id = incoming if incoming and _REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()
        req.context.started = time.perf_counter()
        req.context.user_id = None
        timing.reset()

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         req_succeeded: bool) -> None:
        resp.set_header("X-Request-ID", req.context.request_id)
        store = timing.store_seconds()
        if store:
            total = time.perf_counter() - req.context.started
            resp.set_header("Server-Timing", f"store;dur={store * 1000:.2f}, app;dur={total * 1000:.2f}")
        if not log.isEnabledFor(logging.DEBUG):
            return
        log.debug("request", extra={
            "request_id": req.context.request_id, "method": req.method, "path": req.path,
            "status": resp.status_code, "user_id": req.context.user_id,
            "duration_ms": round((time.perf_counter() - req.context.started) * 1000, 2)})


class Authentication:
    """Requires a valid access token unless the resource sets ``public = True``."""

    def __init__(self, tokens: AccessTokens) -> None:
        self._tokens = tokens

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         params: dict) -> None:
        if resource is None or getattr(resource, "public", False) or req.method == "OPTIONS":
            return
        header = req.get_header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a Bearer access token is required")
        try:
            req.context.user_id = self._tokens.verify(token.strip())
        except AuthFailed as exc:
            raise Unauthorized(str(exc)) from None


class BodyLimit:
    """Refuses declared bodies over the limit before any resource reads them."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.content_length is not None and req.content_length > self.max_bytes:
            raise PayloadTooLarge(f"the body may be at most {self.max_bytes} bytes")


class Cors:
    """CORS for exactly one configured frontend origin (none when empty)."""

    def __init__(self, origin: str) -> None:
        self.origin = origin.rstrip("/")

    def _allowed(self, req: falcon.Request) -> bool:
        return bool(self.origin) and req.get_header("Origin") == self.origin

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.method == "OPTIONS" and req.get_header("Access-Control-Request-Method"):
            resp.status = falcon.HTTP_204
            if self._allowed(req):
                resp.set_header("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS")
                resp.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-ID")
                resp.set_header("Access-Control-Max-Age", "600")
            resp.complete = True

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         req_succeeded: bool) -> None:
        if not self.origin:
            return
        resp.append_header("Vary", "Origin")
        if self._allowed(req):
            resp.set_header("Access-Control-Allow-Origin", self.origin)
            resp.set_header("Access-Control-Expose-Headers", "X-Request-ID, Retry-After")


class SecurityHeaders:
    def __init__(self, hsts: bool) -> None:
        headers = {
            "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer", "Cross-Origin-Opener-Policy": "same-origin",
            "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
            "Cache-Control": "no-store",
        }
        if hsts:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        self._headers = list(headers.items())

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         req_succeeded: bool) -> None:
        resp.set_headers(self._headers)
