"""Fixed-window rate limiting.

``SqlRateLimiter`` (what the app uses with its real stores) counts in MySQL, so every
gunicorn worker of every instance shares one count per key and window.
``RateLimiter`` counts in the process's memory: for tests and in-memory apps.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import Engine

from autobuy.errors import RateLimited


class Limiter(Protocol):
    def hit(self, key: str, *, limit: int, window: float) -> None:
        """Count one request for ``key``; raise RateLimited once ``limit`` is exceeded
        within ``window`` seconds (``retry_after``: seconds until the window ends)."""


class SqlRateLimiter:
    """Windows aligned to the wall clock (``floor(now / window)``), counted atomically in
    the ``rate_limits`` table: one row per key and window, ``hits`` incremented with
    ``INSERT ... ON DUPLICATE KEY UPDATE`` and read back through ``LAST_INSERT_ID`` in
    the same statement's connection, so concurrent requests on any worker or instance
    never admit more than ``limit``. Keys (IPs, user ids, e-mail addresses) are stored
    only as SHA-256 digests. Rows of ended windows are deleted every ``cleanup_every``
    hits of this process."""

    _COUNT = text("INSERT INTO rate_limits (bucket, hits, expires_at) VALUES (:bucket, LAST_INSERT_ID(1), :expires) "
                  "ON DUPLICATE KEY UPDATE hits = LAST_INSERT_ID(hits + 1)")
    _READ = text("SELECT LAST_INSERT_ID()")
    _CLEANUP = text("DELETE FROM rate_limits WHERE expires_at < :now LIMIT 1000")

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time, cleanup_every: int = 500) -> None:
        self._engine = engine
        self._clock = clock
        self._cleanup_every = cleanup_every
        self._since_cleanup = 0
        self._lock = threading.Lock()

    @staticmethod
    def bucket(key: str, window: float, start: float) -> str:
        return f"{hashlib.sha256(key.encode()).hexdigest()[:40]}:{int(window)}:{int(start)}"

    def hit(self, key: str, *, limit: int, window: float) -> None:
        now = self._clock()
        start = math.floor(now / window) * window
        expires = datetime.fromtimestamp(start + window, UTC).replace(tzinfo=None)
        with self._engine.begin() as conn:
            conn.execute(self._COUNT, {"bucket": self.bucket(key, window, start), "expires": expires})
            count = int(conn.execute(self._READ).scalar_one())
        self._cleanup(now)
        if count > limit:
            raise RateLimited(max(1, math.ceil(start + window - now)))

    def _cleanup(self, now: float) -> None:
        with self._lock:
            self._since_cleanup += 1
            if self._since_cleanup < self._cleanup_every:
                return
            self._since_cleanup = 0
        with self._engine.begin() as conn:
            conn.execute(self._CLEANUP, {"now": datetime.fromtimestamp(now, UTC).replace(tzinfo=None)})


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
