"""The fetcher against a loopback shop: redirects, retries, limits, bot walls, SSRF."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import httpcore
import pytest

from autobuy.engine.fetch import Fetcher, FetchSettings, GuardedAsyncBackend
from autobuy.engine.urlguard import UnsafeURLError

from tests.app.support.local import serve_http

PAGE = ("<html lang='de'><body>" + "<p>Beschreibung</p>" * 60
        + "<span class='price'>1.299,99 €</span></body></html>").encode()
CAPTCHA = (b"<html><head><title>Robot Check</title></head><body>"
           b"<form action='/errors/validateCaptcha'></form>" + b"." * 800 + b"</body></html>")


class Shop(BaseHTTPRequestHandler):
    """Routes used by the tests; counts hits per path."""

    hits: dict[str, int] = {}
    starts: dict[str, list[float]] = {}  # prefix of the path -> when each request arrived
    active = 0
    max_active = 0
    lock = threading.Lock()

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {"Content-Type": "text/html; charset=utf-8"}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        arrived = time.monotonic()
        with Shop.lock:
            Shop.starts.setdefault(self.path.rstrip("0123456789"), []).append(arrived)
            Shop.hits[self.path] = Shop.hits.get(self.path, 0) + 1
            hit = Shop.hits[self.path]
            Shop.active += 1
            Shop.max_active = max(Shop.max_active, Shop.active)
        try:
            self._route(hit)
        finally:
            with Shop.lock:
                Shop.active -= 1

    def _route(self, hit: int) -> None:
        port = self.server.server_address[1]
        if self.path == "/ok":
            self._send(200, PAGE)
        elif self.path == "/headers":
            self._send(200, PAGE + self.headers.get("User-Agent", "").encode()
                       + self.headers.get("Accept-Language", "").encode())
        elif self.path == "/gzip":
            self._send(200, gzip.compress(PAGE), {"Content-Type": "text/html",
                                                  "Content-Encoding": "gzip"})
        elif self.path == "/redirect":
            self._send(302, headers={"Location": "/ok"})
        elif self.path == "/redirect-abs":
            self._send(301, headers={"Location": f"http://127.0.0.1:{port}/ok"})
        elif self.path == "/redirect-metadata":
            self._send(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
        elif self.path == "/redirect-decimal":
            self._send(307, headers={"Location": "http://2130706433:%d/ok" % port})
        elif self.path == "/redirect-loop":
            self._send(302, headers={"Location": "/redirect-loop"})
        elif self.path == "/flaky":
            self._send(502 if hit < 3 else 200, b"bad gateway" if hit < 3 else PAGE)
        elif self.path == "/down":
            self._send(500, b"oops")
        elif self.path == "/captcha":
            self._send(503, CAPTCHA)
        elif self.path == "/captcha200":
            self._send(200, CAPTCHA)
        elif self.path == "/empty":
            self._send(200, b"")
        elif self.path == "/missing":
            self._send(404, b"<html>not here</html>")
        elif self.path == "/big":
            self._send(200, b"<html>" + b"x" * 300_000 + b"</html>")
        elif self.path == "/pdf":
            self._send(200, b"%PDF-1.7" + b"x" * 1000, {"Content-Type": "application/pdf"})
        elif self.path.startswith("/paced"):  # answers at once: only the client spaces them
            self._send(200, PAGE)
        elif self.path.startswith("/slow"):
            time.sleep(0.05)
            self._send(200, PAGE)
        else:
            self._send(404, b"")


@pytest.fixture(scope="module")
def shop() -> Iterator[str]:
    with serve_http(Shop) as host:
        yield host


def _settings(shop: str, **overrides: object) -> FetchSettings:
    base = {"allow_hosts": frozenset({shop}), "politeness_delay": 0.0, "backoff_base": 0.01,
            "read_timeout": 2.0, "connect_timeout": 2.0}
    base.update(overrides)
    return FetchSettings(**base)  # type: ignore[arg-type]


def _fetch(settings: FetchSettings, url: str):  # noqa: ANN202
    async def run():  # noqa: ANN202
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch(url)
    return asyncio.run(run())


def test_ok_page_with_realistic_headers(shop: str) -> None:
    result = _fetch(_settings(shop), f"http://{shop}/headers")
    assert result.outcome == "ok" and result.status == 200
    assert b"Chrome/" in result.body and b"en-US" in result.body


def test_gzip_body_is_decoded(shop: str) -> None:
    assert _fetch(_settings(shop), f"http://{shop}/gzip").body == PAGE


@pytest.mark.parametrize("path", ["/redirect", "/redirect-abs"])
def test_safe_redirects_are_followed(shop: str, path: str) -> None:
    result = _fetch(_settings(shop), f"http://{shop}{path}")
    assert result.outcome == "ok" and result.url.endswith("/ok") and result.body == PAGE


@pytest.mark.parametrize("path", ["/redirect-metadata", "/redirect-decimal"])
def test_redirects_to_internal_addresses_are_refused(shop: str, path: str) -> None:
    result = _fetch(_settings(shop), f"http://{shop}{path}")
    assert result.outcome == "failed" and result.reason.startswith("unsafe redirect")


def test_redirect_loops_stop(shop: str) -> None:
    result = _fetch(_settings(shop, max_redirects=3), f"http://{shop}/redirect-loop")
    assert (result.outcome, result.reason) == ("failed", "too many redirects")


def test_not_allowlisted_loopback_is_refused_before_any_request(shop: str) -> None:
    before = dict(Shop.hits)
    result = _fetch(_settings(shop, allow_hosts=frozenset()), f"http://{shop}/ok")
    assert result.outcome == "failed" and "unsafe URL" in result.reason
    assert Shop.hits == before


def test_5xx_is_retried_with_backoff_then_succeeds(shop: str) -> None:
    result = _fetch(_settings(shop, retries=3), f"http://{shop}/flaky")
    assert result.outcome == "ok" and result.attempts == 3


def test_5xx_gives_up_after_the_retries(shop: str) -> None:
    before = Shop.hits.get("/down", 0)
    result = _fetch(_settings(shop, retries=2), f"http://{shop}/down")
    assert (result.outcome, result.reason, result.attempts) == ("failed", "HTTP 500", 3)
    assert Shop.hits["/down"] - before == 3


@pytest.mark.parametrize("path", ["/captcha", "/captcha200", "/empty"])
def test_bot_walls_are_blocked_and_not_retried(shop: str, path: str) -> None:
    result = _fetch(_settings(shop, retries=3), f"http://{shop}{path}")
    assert result.outcome == "blocked" and result.attempts == 1


def test_404_is_a_failure_not_a_block(shop: str) -> None:
    result = _fetch(_settings(shop), f"http://{shop}/missing")
    assert (result.outcome, result.reason) == ("failed", "HTTP 404")


def test_body_size_is_bounded(shop: str) -> None:
    result = _fetch(_settings(shop, max_body_bytes=100_000), f"http://{shop}/big")
    assert result.outcome == "failed" and "larger than 100000" in result.reason


def test_non_html_is_refused(shop: str) -> None:
    assert "not an HTML page" in _fetch(_settings(shop), f"http://{shop}/pdf").reason


def test_connection_errors_are_retried_then_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _fetch(_settings(f"127.0.0.1:{port}", retries=1), f"http://127.0.0.1:{port}/")
    assert result.outcome == "failed" and result.reason.startswith("network error")
    assert result.attempts == 2


def _fetch_all(settings: FetchSettings, urls: list[str]) -> None:
    async def run() -> None:
        async with Fetcher(settings) as fetcher:
            results = await asyncio.gather(*(fetcher.fetch(url) for url in urls))
            assert all(r.outcome == "ok" for r in results), results
    asyncio.run(run())


def test_per_host_concurrency_limit(shop: str) -> None:
    Shop.max_active = 0
    _fetch_all(_settings(shop, per_domain_concurrency=2),
               [f"http://{shop}/slow{i}" for i in range(10)])
    assert Shop.max_active == 2  # the limit is used, never exceeded


def test_politeness_delay_spaces_request_starts_at_the_shop(shop: str) -> None:
    """The gaps between request starts as the shop saw them, on a route that answers at
    once: with the delay off they are a few milliseconds, with it at least the delay."""
    delay = 0.3
    Shop.starts.pop("/paced", None)
    _fetch_all(_settings(shop, per_domain_concurrency=10, politeness_delay=delay),
               [f"http://{shop}/paced{i}" for i in range(8)])
    starts = sorted(Shop.starts["/paced"])
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert len(starts) == 8
    # each arrival may lag its send by scheduling jitter (a new connection and a server
    # thread each; ~100 ms on a loaded 2-core machine): allow a third of the delay per
    # gap - without the delay the gaps are a few ms - and the span of seven gaps must
    # still hold nearly seven delays
    assert min(gaps) >= delay - 0.1, gaps
    assert starts[-1] - starts[0] >= 7 * delay - 0.1, gaps


class _RecordingBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self.connected: list[str] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None,  # noqa: ANN001
                          socket_options=None):  # noqa: ANN001, ANN201
        self.connected.append(host)
        raise httpcore.ConnectError("recorded only")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _resolver(answers: list[list[str]]):  # noqa: ANN202
    calls = iter(answers)

    async def fake(self, host, port, *args, **kwargs):  # noqa: ANN001, ANN202
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in next(calls)]
    return fake


def test_connect_time_check_refuses_a_name_that_resolves_inside(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo",
                        _resolver([["93.184.216.34", "127.0.0.1"]]))
    inner = _RecordingBackend()
    backend = GuardedAsyncBackend(inner=inner)
    with pytest.raises(UnsafeURLError, match="127.0.0.1"):
        asyncio.run(backend.connect_tcp("shop.example", 80, 1.0))
    assert inner.connected == []


def test_connection_goes_to_the_vetted_address_not_a_second_lookup(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A rebinding resolver: public on the first answer, metadata on any later one.
    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo",
                        _resolver([["93.184.216.34"], ["169.254.169.254"]]))
    inner = _RecordingBackend()
    with pytest.raises(httpcore.ConnectError):
        asyncio.run(GuardedAsyncBackend(inner=inner).connect_tcp("shop.example", 80, 1.0))
    assert inner.connected == ["93.184.216.34"]


def test_fetcher_reports_a_rebound_name_as_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", _resolver([["10.0.0.7"]]))
    result = _fetch(FetchSettings(politeness_delay=0, retries=2), "http://shop.example/p/1")
    assert result.outcome == "failed" and "unsafe address" in result.reason
    assert result.attempts == 1
