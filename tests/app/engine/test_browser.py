"""Headless-browser fetch: renders script-built prices; the page's own requests go
through the guarded fetcher, so a script cannot reach internal addresses."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from autobuy.engine.browser import BrowserFetcher, RoutingFetcher
from autobuy.engine.extract import extract
from autobuy.engine.fetch import Fetcher, FetchSettings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium; installed here when missing and we may (root + apt-get)."""
    path = shutil.which("chromium")
    if path is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"],
                       check=True, env=env, capture_output=True)
        path = shutil.which("chromium")
    if path is None:
        pytest.skip("chromium is not installed and cannot be installed (needs root + apt-get)")
    return path


class Bait(BaseHTTPRequestHandler):
    """An internal service the page's script tries to reach."""

    hits = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        Bait.hits += 1
        self.send_response(200)
        self.end_headers()


class Shop(BaseHTTPRequestHandler):
    bait = ""

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/spa":
            self._send(200, b"<html lang='de'><head><title>Shop</title></head><body>"
                       b"<div id='app'>Laden...</div>" + b"<p>Text</p>" * 80
                       + b"<img src='/logo.png'><script src='/app.js'></script></body></html>",
                       "text/html; charset=utf-8")
        elif self.path == "/app.js":
            script = (
                "fetch('http://" + Shop.bait + "/steal').catch(() => {});"
                "fetch('http://169.254.169.254/latest/meta-data/').catch(() => {});"
                "var i = new Image(); i.src = 'http://" + Shop.bait + "/pixel';"
                "fetch('/api/price').then(r => r.json()).then(d => {"
                "document.getElementById('app').innerHTML ="
                " '<span class=\"product-price\">' + d.price + ' \\u20ac</span>'"
                " + '<p class=\"stock\">' + d.stock + '</p>';});")
            self._send(200, script.encode(), "application/javascript")
        elif self.path == "/api/price":
            self._send(200, json.dumps({"price": "1.299,99", "stock": "Auf Lager"}).encode(),
                       "application/json")
        elif self.path == "/wall":
            self._send(503, b"<html><title>Just a moment...</title><script>window._cf_chl_opt={}"
                       b"</script>" + b"." * 800 + b"</html>", "text/html")
        else:
            self._send(404, b"", "text/plain")


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def hosts() -> Iterator[tuple[str, str]]:
    shop, shop_host = _serve(Shop)
    bait, bait_host = _serve(Bait)
    Shop.bait = bait_host
    yield shop_host, bait_host
    for server in (shop, bait):
        server.shutdown()
        server.server_close()


def _run(chromium: str, shop: str, urls: list[str], routed: bool = False):  # noqa: ANN202
    async def go():  # noqa: ANN202
        settings = FetchSettings(allow_hosts=frozenset({shop}), politeness_delay=0.0)
        async with Fetcher(settings) as fetcher:
            browser = BrowserFetcher(fetcher, executable=chromium)
            try:
                target = RoutingFetcher(fetcher, browser, frozenset({"127.0.0.1"})) if routed \
                    else browser
                plain = [await fetcher.fetch(u) for u in urls]
                rendered = [await target.fetch(u) for u in urls]
                return plain, rendered
            finally:
                await browser.aclose()
    return asyncio.run(go())


def test_script_rendered_price_is_read_and_internal_requests_never_leave(
        chromium: str, hosts: tuple[str, str]) -> None:
    shop, _bait = hosts
    url = f"http://{shop}/spa"
    (plain,), (rendered,) = _run(chromium, shop, [url])
    assert extract(plain.body, url).price is None  # the price only exists after scripts ran
    result = extract(rendered.body, url)
    assert rendered.outcome == "ok"
    assert (str(result.price), result.currency, result.availability) == (
        "1299.99", "EUR", "in_stock")
    assert Bait.hits == 0


def test_bot_wall_through_the_browser_is_blocked(chromium: str, hosts: tuple[str, str]) -> None:
    shop, _ = hosts
    (_plain,), (rendered,) = _run(chromium, shop, [f"http://{shop}/wall"], routed=True)
    assert rendered.outcome == "blocked"


def test_unsafe_url_is_refused_before_the_browser_starts(chromium: str,
                                                         hosts: tuple[str, str]) -> None:
    shop, bait = hosts
    (_plain,), (rendered,) = _run(chromium, shop, [f"http://{bait}/steal"])
    assert rendered.outcome == "failed" and "unsafe URL" in rendered.reason
    assert Bait.hits == 0
