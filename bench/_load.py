"""Load generator (run as its own process by bench/api.py): keep-alive HTTP/1.1 on loopback.

    python bench/_load.py closed URL TOKEN CONNECTIONS SECONDS MAX_REQUESTS
    python bench/_load.py rate   URL TOKEN CONNECTIONS SECONDS RATE

closed: each connection sends its next request when the last answer arrived (max rps).
rate:   requests are scheduled every 1/RATE s (open loop); latency is measured from the
        scheduled time, so a stall is counted, not hidden (no coordinated omission).
Prints one JSON object: count, errors, dropped (rate mode: still queued 5 s after the
last scheduled send), seconds, rps, p50_ms, p99_ms, max_ms.
"""
from __future__ import annotations

import http.client
import json
import queue
import sys
import threading
import time
from urllib.parse import urlsplit


def _conn(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)


STORE_MS: list[float] = []  # from the API's Server-Timing header (store;dur=..)


def _get(conn: http.client.HTTPConnection, path: str, headers: dict) -> int:
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    timing = resp.getheader("Server-Timing")
    if timing and timing.startswith("store;dur="):
        STORE_MS.append(float(timing.split(",")[0][10:]))
    return resp.status


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def closed(url: str, headers: dict, conns: int, seconds: float, max_requests: int) -> dict:
    path = urlsplit(url).path
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    budget = [max_requests]

    def run() -> None:
        conn = _conn(url)
        mine: list[float] = []
        while time.perf_counter() < stop:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            t = time.perf_counter()
            try:
                status = _get(conn, path, headers)
            except OSError:
                conn = _conn(url)
                status = 0
            mine.append(time.perf_counter() - t)
            if status != 200:
                errors[0] += 1
        with lock:
            lat.extend(mine)

    start = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(conns)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - start
    return _summary(lat, errors[0], elapsed)


def rate(url: str, headers: dict, conns: int, seconds: float, per_second: float) -> dict:
    path = urlsplit(url).path
    todo: queue.Queue = queue.Queue()
    lat: list[float] = []
    errors = [0]
    dropped = [0]
    hard_stop = [float("inf")]
    lock = threading.Lock()

    def run() -> None:
        conn = _conn(url)
        mine = []
        while True:
            scheduled = todo.get()
            if scheduled is None:
                break
            if time.perf_counter() > hard_stop[0]:
                with lock:
                    dropped[0] += 1
                continue
            try:
                status = _get(conn, path, headers)
            except OSError:
                conn = _conn(url)
                status = 0
            mine.append(time.perf_counter() - scheduled)
            if status != 200:
                errors[0] += 1
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(conns)]
    start = time.perf_counter()
    hard_stop[0] = start + seconds + 5  # requests still queued by then are dropped, not sent
    for th in threads:
        th.start()
    total = int(seconds * per_second)
    for i in range(total):
        due = start + i / per_second
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        todo.put(due)
    for _ in threads:
        todo.put(None)
    for th in threads:
        th.join()
    return _summary(lat, errors[0], time.perf_counter() - start, dropped[0])


def _summary(lat: list[float], errors: int, elapsed: float, dropped: int = 0) -> dict:
    store = {"store_p50_ms": round(_pct(STORE_MS, 50), 2), "store_p99_ms": round(_pct(STORE_MS, 99), 2),
             "store_mean_ms": round(sum(STORE_MS) / len(STORE_MS), 2),
             "mean_ms": round(sum(lat) / len(lat) * 1000, 2) if lat else None} if STORE_MS else {}
    return {**store, "count": len(lat), "errors": errors, "dropped": dropped, "seconds": round(elapsed, 3),
            "rps": round(len(lat) / elapsed, 1) if elapsed else 0.0,
            "p50_ms": round(_pct(lat, 50) * 1000, 2), "p99_ms": round(_pct(lat, 99) * 1000, 2),
            "max_ms": round(max(lat) * 1000, 2) if lat else float("nan")}


def main() -> int:
    mode, url, token, conns, seconds, arg = sys.argv[1:7]
    headers = {"Authorization": f"Bearer {token}"} if token != "-" else {}
    if mode == "closed":
        result = closed(url, headers, int(conns), float(seconds), int(arg))
    else:
        result = rate(url, headers, int(conns), float(seconds), float(arg))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
