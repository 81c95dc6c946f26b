"""HTTP errors with fixed titles, one JSON error shape, and domain exceptions.

Every error body is ``{"error": {"status", "title", "detail", "request_id"}}``.
Services raise the domain exceptions below; :func:`register` maps them to HTTP.
"""
from __future__ import annotations

import json
import logging

import falcon

log = logging.getLogger("autobuy.errors")


# ---- domain exceptions (raised by services, no HTTP knowledge) ---------------------
class DomainError(Exception):
    """Base of the errors a service raises for a user-visible reason."""


class NotFound(DomainError):
    pass


class InvalidInput(DomainError):
    pass


class BadInput(DomainError):
    """A malformed request (bad cursor, bad signature) rather than an invalid value."""


class AuthFailed(DomainError):
    pass


class LimitReached(DomainError):
    pass


class Conflict(DomainError):
    pass


class RateLimited(DomainError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry after {retry_after} s")
        self.retry_after = retry_after


class DependencyFailed(DomainError):
    pass


# ---- HTTP errors with fixed titles ---------------------------------------------------
class ApiError(falcon.HTTPError):
    """An HTTP error whose class fixes the status, the title and any header it always sends.

    ``retry_after`` (seconds) adds a ``Retry-After`` header.
    """

    http_status = falcon.HTTP_500
    title = "Internal server error"
    always_headers: dict[str, str] = {}

    def __init__(self, detail: str | None = None, retry_after: int | None = None, **kwargs) -> None:
        headers = dict(self.always_headers)
        if retry_after:
            headers["Retry-After"] = str(retry_after)
        super().__init__(self.http_status, title=self.title, description=detail,
                         headers=headers or None, **kwargs)


def _http_error(name: str, status: str, title: str,
                always_headers: dict[str, str] | None = None) -> type[ApiError]:
    """The :class:`ApiError` subclass ``name``: answers ``status`` with ``title``."""
    return type(name, (ApiError,), {"__module__": __name__, "__qualname__": name, "http_status": status,
                                    "title": title, "always_headers": always_headers or {}})


# One row per error the API answers: the class, its status and its fixed title.
BadRequest = _http_error("BadRequest", falcon.HTTP_400, "Bad request")
Unauthorized = _http_error("Unauthorized", falcon.HTTP_401, "Unauthorized", {"WWW-Authenticate": "Bearer"})
Forbidden = _http_error("Forbidden", falcon.HTTP_403, "Forbidden")
TierLimitReached = _http_error("TierLimitReached", falcon.HTTP_403, "Tier limit reached")
NotFoundError = _http_error("NotFoundError", falcon.HTTP_404, "Not found")
ConflictError = _http_error("ConflictError", falcon.HTTP_409, "Conflict")
PayloadTooLarge = _http_error("PayloadTooLarge", falcon.HTTP_413, "Payload too large")
UnsupportedMediaType = _http_error("UnsupportedMediaType", falcon.HTTP_415, "Unsupported media type")
ValidationFailed = _http_error("ValidationFailed", falcon.HTTP_422, "Validation failed")
TooManyRequests = _http_error("TooManyRequests", falcon.HTTP_429, "Too many requests")
ServiceUnavailable = _http_error("ServiceUnavailable", falcon.HTTP_503, "Service unavailable")


def _body(req: falcon.Request, status: int, title: str, detail: str | None) -> str:
    request_id = getattr(req.context, "request_id", None)
    return json.dumps({"error": {"status": status, "title": title, "detail": detail or title,
                                 "request_id": request_id}})


def serialize(req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError) -> None:
    """The one error serializer: also used for falcon's own 404/405/400 errors."""
    resp.content_type = falcon.MEDIA_JSON
    resp.text = _body(req, exc.status_code, exc.title or "Error", exc.description)


def _map(kind: type[ApiError]):
    def handler(req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict) -> None:
        raise kind(str(ex))
    return handler


def _rate_limited(req, resp, ex: RateLimited, params) -> None:
    raise TooManyRequests(str(ex), ex.retry_after)


def _dependency_unavailable(req, resp, ex: DependencyFailed, params) -> None:
    # autobuy.dependencies.DependencyUnavailable: names the dependency, carries Retry-After.
    log.warning("dependency unavailable", extra={
        "request_id": getattr(req.context, "request_id", None),
        "dependency": getattr(ex, "dependency", None), "reason": getattr(ex, "reason", None)})
    raise ServiceUnavailable(str(ex), getattr(ex, "retry_after", None))


def _unexpected(req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict) -> None:
    if isinstance(ex, falcon.HTTPError):
        raise ex
    log.error("unhandled error", extra={"request_id": getattr(req.context, "request_id", None),
                                        "error_type": type(ex).__name__})
    raise ApiError("An unexpected error occurred; quote the request id when reporting it.")


def register(app: falcon.App) -> None:
    """Install the error serializer and map domain exceptions to HTTP errors."""
    app.set_error_serializer(serialize)
    app.add_error_handler(Exception, _unexpected)
    for kind, http in ((NotFound, NotFoundError), (InvalidInput, ValidationFailed), (BadInput, BadRequest),
                       (AuthFailed, Unauthorized), (LimitReached, TierLimitReached),
                       (Conflict, ConflictError), (DependencyFailed, ServiceUnavailable)):
        app.add_error_handler(kind, _map(http))
    app.add_error_handler(RateLimited, _rate_limited)
    from autobuy.dependencies import DependencyUnavailable

    app.add_error_handler(DependencyUnavailable, _dependency_unavailable)
