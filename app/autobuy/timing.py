"""Per-request store timing, reported in the ``Server-Timing`` response header.

Each request runs on one thread (gunicorn gthread), so a thread-local accumulator
is enough: ``timed(client)`` wraps a boto3 client so every call adds its duration.
"""
from __future__ import annotations

import threading
import time
from typing import Any

_local = threading.local()


def reset() -> None:
    _local.store = 0.0


def store_seconds() -> float:
    return getattr(_local, "store", 0.0)


class Timed:
    """A proxy that times every method call of the wrapped client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                _local.store = getattr(_local, "store", 0.0) + time.perf_counter() - started

        return call
