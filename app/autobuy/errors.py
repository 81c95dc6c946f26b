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
    http_status = falcon.HTTP_500
    title = "Internal server error"

    def __init__(self, detail: str | None = None, **kwargs) -> None:
        super().__init__(self.http_status, title=self.title, description=detail, **kwargs)


class BadRequest(ApiError):
    http_status = falcon.HTTP_400
    title = "Bad request"


class ValidationFailed(ApiError):
    http_status = falcon.HTTP_422
    title = "Validation failed"


class Unauthorized(ApiError):
    http_status = falcon.HTTP_401
    title = "Unauthorized"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    http_status = falcon.HTTP_403
    title = "Forbidden"


class TierLimitReached(ApiError):
    http_status = falcon.HTTP_403
    title = "Tier limit reached"


class NotFoundError(ApiError):
    http_status = falcon.HTTP_404
    title = "Not found"


class ConflictError(ApiError):
    http_status = falcon.HTTP_409
    title = "Conflict"


class PayloadTooLarge(ApiError):
    http_status = falcon.HTTP_413
    title = "Payload too large"


class UnsupportedMediaType(ApiError):
    http_status = falcon.HTTP_415
    title = "Unsupported media type"


class TooManyRequests(ApiError):
    http_status = falcon.HTTP_429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class ServiceUnavailable(ApiError):
    http_status = falcon.HTTP_503
    title = "Service unavailable"

    def __init__(self, detail: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)} if retry_after else None)


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
