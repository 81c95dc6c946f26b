"""The WSGI application of the local cloud: moto, plus the ``/localcloud/*`` routes.

    GET  /localcloud/calls        {"total": n, "by_service": {service: {operation: n}}}
    POST /localcloud/calls/reset  zero the counts
    GET  /localcloud/patches      {"moto": version, "speed_patches": "on"|"off",
                                   "applied": [{"kind", "name", "moto"}, ...]} in order
    GET  /localcloud/calls/in-flight  the same shape, for calls being answered right now
                                  (e.g. SQS long polls still waiting)
    GET  /localcloud/twin         {"enabled": false} or, with LOCALCLOUD_TWIN=on, the CA
                                   file, network, registry address and databases
    GET  /localcloud/ses/messages {"messages": [...]}: every e-mail SES accepted, oldest
                                   first (account, region, id, source, destinations,
                                   subject, and raw MIME or body)
    /stripe/*                     the Stripe stand-in (localcloud/stripe.py): the API's
                                   AUTOBUY_STRIPE_API_URL=http://HOST:PORT/stripe

Every other request goes to moto unchanged and, when it is an AWS API call
(not ``/moto-api/*``), is counted first.
"""
from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from localcloud.calls import CallCounter, ServiceIndex, signature_of

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_FORM = "application/x-www-form-urlencoded"
_MAX_FORM_BODY = 16 * 1024 * 1024


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "localcloud"


class LocalCloudApp:
    """Wrap moto's dispatcher: serve our routes, count the rest, pass it on."""

    def __init__(self, moto_app: WSGIApp, counter: CallCounter | None = None) -> None:
        self._moto = moto_app
        if counter is None:
            index = ServiceIndex(_cache_dir())
            index.build_in_background()
            counter = CallCounter(index)
        self.counter = counter
        self.in_flight = CallCounter(counter._index)  # noqa: SLF001 - same index, same module
        self._stripe: Any = None
        self._stripe_lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/localcloud/") or path == "/localcloud":
            return self._own_route(environ, start_response, path)
        if (path == "/stripe" or path.startswith("/stripe/")) and not environ.get(
                "HTTP_AUTHORIZATION", "").startswith("AWS4-"):  # a signed call is S3's (bucket "stripe")
            return self.stripe()(environ, start_response)
        if path.startswith("/moto-api"):
            return self._moto(environ, start_response)
        sig = signature_of(environ, _form_body(environ))
        self.counter.record(sig)
        self.in_flight.record(sig)
        try:
            return self._moto(environ, start_response)
        finally:
            self.in_flight.release(sig)

    def stripe(self) -> Any:
        """The Stripe stand-in, made on first use (its state lives in this process)."""
        with self._stripe_lock:
            if self._stripe is None:
                from localcloud.stripe import StripeStandIn

                self._stripe = StripeStandIn()
            return self._stripe

    def _own_route(self, environ: dict[str, Any], start_response: Callable[..., Any], path: str):
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path.rstrip("/") == "/localcloud/calls":
            if method != "GET":
                return _json(start_response, 405, {"error": "use GET"})
            return _json(start_response, 200, self.counter.snapshot())
        if path.rstrip("/") == "/localcloud/calls/in-flight":
            if method != "GET":
                return _json(start_response, 405, {"error": "use GET"})
            return _json(start_response, 200, self.in_flight.snapshot())
        if path.rstrip("/") == "/localcloud/calls/reset":
            if method != "POST":
                return _json(start_response, 405, {"error": "use POST"})
            self.counter.reset()
            return _json(start_response, 200, {"total": 0, "by_service": {}})
        if path.rstrip("/") == "/localcloud/patches":
            if method != "GET":
                return _json(start_response, 405, {"error": "use GET"})
            return _json(start_response, 200, _patches())
        if path.rstrip("/") == "/localcloud/twin":
            if method != "GET":
                return _json(start_response, 405, {"error": "use GET"})
            from localcloud import twin

            return _json(start_response, 200, twin.report())
        if path.rstrip("/") == "/localcloud/ses/messages":
            if method != "GET":
                return _json(start_response, 405, {"error": "use GET"})
            return _json(start_response, 200, {"messages": ses_messages()})
        return _json(start_response, 404, {"error": f"no such local cloud route: {path}"})


def _patches() -> dict[str, Any]:
    from localcloud import extensions, settings

    return {
        "moto": extensions.installed_moto_version(),
        "speed_patches": "on" if settings.speed_patches() else "off",
        "applied": [{"kind": p.kind, "name": p.name, "moto": p.moto} for p in extensions.applied()],
    }


def ses_messages() -> list[dict[str, Any]]:
    """What SES accepted (moto keeps it in its SES backends; v2 sends land there too)."""
    from email import message_from_string
    from email.header import decode_header, make_header

    from moto.ses.models import ses_backends

    out: list[dict[str, Any]] = []
    for account, regions in list(ses_backends.items()):
        for region, backend in list(regions.items()):
            for msg in list(backend.sent_messages):
                entry: dict[str, Any] = {"account": account, "region": region,
                                         "id": getattr(msg, "id", None), "source": msg.source}
                raw = getattr(msg, "raw_data", None)
                if raw is not None:
                    parsed = message_from_string(raw)
                    entry.update(destinations=list(msg.destinations), raw=raw,
                                 subject=str(make_header(decode_header(parsed["Subject"] or ""))))
                else:
                    dest = msg.destinations
                    entry.update(destinations=dest.get("ToAddresses", []) if isinstance(dest, dict) else dest,
                                 subject=getattr(msg, "subject", None), body=getattr(msg, "body", None),
                                 template=getattr(msg, "template", None))
                out.append(entry)
    return out


def _form_body(environ: dict[str, Any]) -> bytes | None:
    """Read a form-encoded body (query protocols) and put it back for moto."""
    if not environ.get("CONTENT_TYPE", "").startswith(_FORM):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length <= 0 or length > _MAX_FORM_BODY:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed"}


def _json(start_response: Callable[..., Any], status: int, payload: Any) -> list[bytes]:
    body = json.dumps(payload, sort_keys=True).encode()
    start_response(
        f"{status} {_REASONS[status]}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
