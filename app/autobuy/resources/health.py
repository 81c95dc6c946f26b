"""Liveness (/health, no dependency calls), readiness (/ready) and the OpenAPI document."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime

import falcon

from autobuy.errors import ServiceUnavailable


class Health:
    public = True

    def __init__(self, started: float) -> None:
        self._started = started

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.text = json.dumps({"status": "ok",
                                "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                                "uptime": round(time.monotonic() - self._started, 3)})


class Ready:
    """Readiness: every dependency pinged at once, answered within ``timeout`` s whatever hangs.

    Each check runs on this resource's own threads; a check still running when the time is
    up counts as "timeout" and is not started again until it ends (at most one probe per
    dependency in flight, however often /ready is asked while it hangs).
    """

    public = True

    def __init__(self, checks: dict[str, Callable[[], None]], timeout: float) -> None:
        self._checks = checks
        self._timeout = timeout
        self._lock = threading.Lock()
        self._probes: dict[str, Future] = {}
        self._pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="ready")

    def _probe(self, name: str) -> Future:
        with self._lock:
            probe = self._probes.get(name)
            if probe is None or probe.done():
                probe = self._probes[name] = self._pool.submit(self._checks[name])
            return probe

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        deadline = time.monotonic() + self._timeout
        probes = {name: self._probe(name) for name in self._checks}
        results = {}
        for name, probe in probes.items():
            try:
                probe.result(timeout=max(0.0, deadline - time.monotonic()))
                results[name] = "ok"
            except FutureTimeout:
                results[name] = "timeout"
            except Exception:  # noqa: BLE001 - any failure means not ready
                results[name] = "unavailable"
        failed = [name for name, state in results.items() if state != "ok"]
        if failed:
            reasons = ", ".join(f"{name}: {results[name]}" for name in failed)
            raise ServiceUnavailable(f"not ready: {', '.join(failed)} unavailable ({reasons})",
                                     retry_after=1)
        resp.media = {"status": "ready", "checks": results}


class OpenApi:
    public = True

    def __init__(self, document: dict) -> None:
        self._text = json.dumps(document)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.text = self._text
