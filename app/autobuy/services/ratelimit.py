"""Fixed-window rate limiting, in memory per process.

Each gunicorn worker keeps its own counters, so the effective limit on one
instance is at most ``limit x workers`` (documented in docs/api.md).
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from autobuy.errors import RateLimited


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def hit(self, key: str, *, limit: int, window: float) -> None:
        """Count one request for ``key``; raise RateLimited once ``limit`` is exceeded."""
        now = self._clock()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= window:
                start, count = now, 0
            if count >= limit:
                raise RateLimited(max(1, math.ceil(start + window - now)))
            if len(self._windows) >= self._max_keys:
                self._evict(now, window)
            self._windows[key] = (start, count + 1)

    def _evict(self, now: float, window: float) -> None:
        for key in [k for k, (s, _) in self._windows.items() if now - s >= window]:
            del self._windows[key]
        if len(self._windows) >= self._max_keys:
            self._windows.clear()
