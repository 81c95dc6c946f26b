"""Degrading instead of stalling when a dependency (MySQL, DynamoDB, SQS, Stripe) fails.

Every call that leaves the process has a bound (the timeouts of the settings, see
docs/api.md "Timeouts and degraded dependencies"); on top of that each dependency gets a
:class:`Dependency` guard per worker process:

- a bulkhead: at most ``max_in_flight`` calls to it at once; one more is refused at once
  (no waiting), so a hanging dependency holds at most that many gunicorn threads and the
  others stay free for ``/health`` and for calls that do not need it;
- a breaker: a call that fails for a dependency reason (timeout, refused connection,
  5xx, throttling) refuses the calls of the next ``cooldown`` seconds at once, then
  calls go through again (recovery needs no restart).

A refused or failed call raises :class:`DependencyUnavailable`, which the API answers
with 503, ``Retry-After`` and a detail naming the dependency — never a 500, never a hang.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from autobuy.errors import DependencyFailed

__all__ = ["Dependency", "DependencyUnavailable", "aws_config", "aws_failure", "guard",
           "mysql_failure"]


class DependencyUnavailable(DependencyFailed):
    """A dependency is down, slow or saturated; the caller may retry after ``retry_after`` s."""

    def __init__(self, dependency: str, reason: str, retry_after: int) -> None:
        super().__init__(f"{dependency} unavailable: {reason}; retry after {retry_after} s")
        self.dependency = dependency
        self.reason = reason
        self.retry_after = retry_after


def mysql_failure(exc: BaseException) -> str | None:
    """Why a MySQL call failed for a dependency reason, or None (a bug, a constraint...)."""
    from sqlalchemy import exc as sa

    if isinstance(exc, sa.TimeoutError):
        return "no free connection in the pool"
    if isinstance(exc, (sa.OperationalError, sa.InterfaceError, sa.DisconnectionError)):
        return "connection failed or timed out"
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return "connection lost"
    return None


_THROTTLING = {"ThrottlingException", "Throttling", "ProvisionedThroughputExceededException",
               "RequestLimitExceeded", "TooManyRequestsException", "RequestThrottled",
               "RequestThrottledException", "SlowDown", "LimitExceededException"}


def aws_failure(exc: BaseException) -> str | None:
    """Why an AWS call failed for a dependency reason (timeouts, network, 5xx, throttling)."""
    from botocore import exceptions as bc

    if isinstance(exc, (bc.ConnectTimeoutError, bc.ReadTimeoutError)):
        return "timed out"
    if isinstance(exc, (bc.EndpointConnectionError, bc.ConnectionClosedError, bc.HTTPClientError)):
        return "connection failed"
    if isinstance(exc, bc.ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if error.get("Code") in _THROTTLING:
            return "throttled"
        if status >= 500:
            return f"HTTP {status}"
    return None


class Dependency:
    """Bulkhead + breaker for one dependency in one process (thread-safe).

    Bulkhead: ``max_in_flight`` calls at once. When all are taken, a new call waits for a
    free slot only while the oldest call in flight is younger than ``patience`` seconds
    (a healthy dependency frees slots in milliseconds); once the calls in flight are
    that old the dependency is slow, and new calls are refused at once.

    Breaker: a call failing for a dependency reason opens it for ``cooldown`` s (calls
    refused at once); then one probe call goes through (the others are still refused)
    and closes it when it succeeds, or opens it again when it fails.
    """

    def __init__(self, name: str, *, max_in_flight: int, cooldown: float, patience: float = 0.5,
                 classify: Callable[[BaseException], str | None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_in_flight < 1 or cooldown <= 0 or patience < 0:
            raise ValueError("max_in_flight must be >= 1, cooldown > 0 and patience >= 0")
        self.name = name
        self._max = max_in_flight
        self._cooldown = cooldown
        self._patience = patience
        self._classify = classify
        self._clock = clock
        self._cond = threading.Condition()
        self._started: dict[int, float] = {}  # call token -> start time
        self._next_token = 0
        self._open_until: float | None = None  # None: closed
        self._probe: int | None = None  # the token of the half-open probe call
        self._reason = ""
        self.refused = 0  # calls refused at once (open breaker or full bulkhead)
        self.failed = 0   # calls that failed for a dependency reason

    @property
    def in_flight(self) -> int:
        return len(self._started)

    @property
    def state(self) -> str:
        if self._open_until is None:
            return "closed"
        return "half-open" if self._clock() >= self._open_until else "open"

    def _refuse(self, reason: str, retry_after: float) -> DependencyUnavailable:
        self.refused += 1
        return DependencyUnavailable(self.name, reason, max(1, math.ceil(retry_after)))

    def _enter(self) -> int:
        with self._cond:
            while True:
                now = self._clock()
                probe = False
                if self._open_until is not None:
                    if now < self._open_until:
                        raise self._refuse(self._reason, self._open_until - now)
                    if self._probe is not None:
                        raise self._refuse(f"{self._reason} (recovery being probed)", 1)
                    probe = True
                if len(self._started) < self._max:
                    token = self._next_token
                    self._next_token += 1
                    self._started[token] = now
                    if probe:
                        self._probe = token
                    return token
                waited = now - min(self._started.values())
                if waited >= self._patience:
                    raise self._refuse(f"{len(self._started)} calls in flight for "
                                       f"{waited:.1f} s already", 1)
                self._cond.wait(self._patience - waited)

    def _leave(self, token: int, failure: str | None) -> None:
        with self._cond:
            del self._started[token]
            if failure is not None:
                self.failed += 1
                self._reason = failure
                self._open_until = self._clock() + self._cooldown
            elif token == self._probe:
                self._open_until = None
            if token == self._probe:
                self._probe = None
            self._cond.notify()

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        token = self._enter()
        failure = None
        try:
            return fn(*args, **kwargs)
        except DependencyUnavailable:
            raise
        except Exception as exc:
            failure = self._classify(exc)
            if failure is None:
                raise
            raise DependencyUnavailable(self.name, failure,
                                        max(1, math.ceil(self._cooldown))) from exc
        finally:
            self._leave(token, failure)


class _Guarded:
    """Every public method of ``target`` called through ``dependency``."""

    def __init__(self, target: Any, dependency: Dependency) -> None:
        self._target = target
        self._dependency = dependency

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if name.startswith("_") or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._dependency.call(attr, *args, **kwargs)

        call.__name__ = name
        return call


def guard(target: Any, dependency: Dependency) -> Any:
    """``target`` with each public method call bounded by ``dependency``'s guard."""
    return _Guarded(target, dependency)


def aws_config(settings: Any, *, long_poll_seconds: float = 0, max_pool_connections: int = 20):
    """botocore ``Config`` with the settings' bounds (``long_poll_seconds`` is added to the
    read timeout of a client that long-polls, e.g. SQS ReceiveMessage)."""
    from botocore.config import Config

    return Config(connect_timeout=settings.aws_connect_timeout_seconds,
                  read_timeout=settings.aws_read_timeout_seconds + long_poll_seconds,
                  retries={"mode": "standard", "total_max_attempts": settings.aws_max_attempts},
                  max_pool_connections=max_pool_connections)
