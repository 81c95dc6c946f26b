"""Headless-browser fetch for script-rendered shops (off by default).

Debian's ``chromium`` is driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: NUL-separated JSON on file descriptors 3 and 4), so no
WebSocket client or Playwright is needed. The browser is only a *renderer*: it cannot
resolve names (``--host-resolver-rules="MAP * ~NOTFOUND"``) and its proxy points at a
closed port, and every request it makes — the page, scripts, XHR — is paused through
the DevTools ``Fetch`` domain and answered by the engine's guarded :class:`Fetcher`
(``check_url`` + connect-time vetting + pinning). So the SSRF guard holds for
sub-resources too. Images, media, fonts and stylesheets are refused (not needed to
read a price, and the slowest part of rendering).

Use :class:`RoutingFetcher` to send only the hosts configured as script-rendered
(``FetchSettings.script_rendered_hosts``) through the browser.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from typing import Any

from autobuy.engine.fetch import Fetcher, FetchResult
from autobuy.engine.urlguard import UnsafeURLError, check_url

__all__ = ["BrowserError", "BrowserFetcher", "RoutingFetcher"]

_SKIPPED_TYPES = frozenset({"Image", "Media", "Font", "Stylesheet", "Manifest", "Ping",
                            "CSPViolationReport", "Prefetch"})
_MAX_SUBRESOURCES = 100
_SETTLE_SECONDS = 0.3


class BrowserError(RuntimeError):
    """Chromium is missing, died, or a DevTools command failed."""


class _Pipe:
    """DevTools protocol over the browser's pipe: commands with ids, events to a queue."""

    def __init__(self, proc: subprocess.Popen[bytes], read_fd: int, write_fd: int) -> None:
        self._proc = proc
        self._read_fd = read_fd
        self._write_fd = write_fd
        self._next_id = 0
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                     os.fdopen(self._read_fd, "rb", buffering=0))
        self._reader = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                raw = await reader.readuntil(b"\0")
                message = json.loads(raw[:-1])
                future = self._waiting.pop(message.get("id", -1), None)
                if future is not None and not future.done():
                    future.set_result(message)
                elif "method" in message:
                    queue = self.events.setdefault(message.get("sessionId", ""), asyncio.Queue())
                    queue.put_nowait(message)
        except (asyncio.IncompleteReadError, ConnectionError):
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(BrowserError("chromium closed the DevTools pipe"))

    async def send(self, method: str, params: dict[str, Any] | None = None,
                   session: str | None = None, timeout: float = 20.0) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method,
                                   "params": params or {}}
        if session:
            message["sessionId"] = session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[self._next_id] = future
        os.write(self._write_fd, json.dumps(message).encode() + b"\0")
        reply = await asyncio.wait_for(future, timeout)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        with contextlib.suppress(OSError):
            os.close(self._write_fd)


class BrowserFetcher:
    """Render pages in one headless Chromium; the network is the guarded fetcher's."""

    def __init__(self, fetcher: Fetcher, *, executable: str = "chromium",
                 timeout: float = 20.0, max_pages: int = 4) -> None:
        self._fetcher = fetcher
        self._executable = executable
        self._timeout = timeout
        self._pages = asyncio.Semaphore(max_pages)
        self._proc: subprocess.Popen[bytes] | None = None
        self._pipe: _Pipe | None = None
        self._profile: str | None = None
        self._start_lock = asyncio.Lock()

    async def _ensure(self) -> _Pipe:
        async with self._start_lock:
            if self._pipe is not None and self._proc is not None and self._proc.poll() is None:
                return self._pipe
            path = shutil.which(self._executable)
            if path is None:
                raise BrowserError(f"{self._executable} not found (apt-get install chromium)")
            self._profile = tempfile.mkdtemp(prefix="autobuy-chromium-")
            to_browser_r, to_browser_w = os.pipe()
            from_browser_r, from_browser_w = os.pipe()
            args = [path, "--headless=new", "--remote-debugging-pipe", "--no-sandbox",
                    "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                    "--disable-extensions", "--disable-background-networking", "--disable-sync",
                    "--disable-dev-shm-usage", "--mute-audio", "--proxy-server=127.0.0.1:9",
                    "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={self._profile}",
                    "about:blank"]
            # The pipe protocol wants fds 3 (commands in) and 4 (replies out); bash (not
            # dash) accepts multi-digit source descriptors in the redirections.
            shell = f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w}'
            self._proc = subprocess.Popen(["/bin/bash", "-c", shell, "chromium", *args],
                                          pass_fds=(to_browser_r, from_browser_w),
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            os.close(to_browser_r)
            os.close(from_browser_w)
            self._pipe = _Pipe(self._proc, from_browser_r, to_browser_w)
            await self._pipe.start()
            await self._pipe.send("Browser.getVersion")
            return self._pipe

    async def aclose(self) -> None:
        if self._pipe is not None:
            with contextlib.suppress(BrowserError, asyncio.TimeoutError, OSError):
                await self._pipe.send("Browser.close", timeout=5)
            await self._pipe.close()
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
        self._pipe = self._proc = self._profile = None

    async def fetch(self, url: str) -> FetchResult:
        try:
            check_url(url, allow_hosts=self._fetcher.settings.allow_hosts)
        except UnsafeURLError as exc:
            return FetchResult(url, "failed", reason=f"unsafe URL: {exc}", attempts=0)
        async with self._pages:
            try:
                return await asyncio.wait_for(self._render(url), self._timeout)
            except (BrowserError, asyncio.TimeoutError, OSError) as exc:
                return FetchResult(url, "failed", reason=f"browser: {type(exc).__name__} {exc}")

    async def _render(self, url: str) -> FetchResult:
        pipe = await self._ensure()
        target = (await pipe.send("Target.createTarget", {"url": "about:blank"}))["targetId"]
        session = (await pipe.send("Target.attachToTarget",
                                   {"targetId": target, "flatten": True}))["sessionId"]
        events = pipe.events.setdefault(session, asyncio.Queue())
        try:
            await pipe.send("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}, session)
            await pipe.send("Page.enable", {}, session)
            # Page.navigate answers only once the document request (paused below) is served.
            navigation = asyncio.create_task(pipe.send("Page.navigate", {"url": url}, session))
            document = await self._serve_until_loaded(pipe, session, events, url)
            navigation.cancel()
            if document.outcome != "ok":
                return document
            html = (await pipe.send("Runtime.evaluate", {
                "expression": "document.documentElement.outerHTML", "returnByValue": True},
                session))["result"]["value"]
            return FetchResult(document.url, "ok", document.status, html.encode("utf-8"),
                               content_type="text/html; charset=utf-8")
        finally:
            pipe.events.pop(session, None)
            with contextlib.suppress(BrowserError, asyncio.TimeoutError):
                await pipe.send("Target.closeTarget", {"targetId": target}, timeout=5)

    async def _serve_until_loaded(self, pipe: _Pipe, session: str,
                                  events: asyncio.Queue[dict[str, Any]], url: str) -> FetchResult:
        document: FetchResult | None = None
        served = 0
        loaded = False
        while True:
            try:
                event = await asyncio.wait_for(events.get(), _SETTLE_SECONDS if loaded else None)
            except asyncio.TimeoutError:
                break  # loaded and quiet: scripts have settled
            method = event["method"]
            if method == "Page.loadEventFired":
                loaded = True
            elif method == "Fetch.requestPaused":
                params = event["params"]
                is_document = document is None and params.get("resourceType") == "Document"
                result = await self._answer(pipe, session, params, served, is_document)
                served += 1
                if is_document:
                    document = result
                    if result is None or result.outcome != "ok":
                        return result or FetchResult(url, "failed", reason="no document")
        return document or FetchResult(url, "failed", reason="the page never loaded")

    async def _answer(self, pipe: _Pipe, session: str, params: dict[str, Any], served: int,
                      is_document: bool) -> FetchResult | None:
        request_id = params["requestId"]
        request = params["request"]
        if (request.get("method") != "GET" or params.get("resourceType") in _SKIPPED_TYPES
                or served >= _MAX_SUBRESOURCES):
            await pipe.send("Fetch.failRequest", {"requestId": request_id,
                                                  "errorReason": "BlockedByClient"}, session)
            return None
        # The document is classified like any page (bot walls -> blocked); the rest raw.
        result = await self._fetcher.fetch(request["url"], raw=not is_document)
        if result.outcome == "failed" or (is_document and result.outcome != "ok"):
            await pipe.send("Fetch.failRequest", {"requestId": request_id,
                                                  "errorReason": "AccessDenied"}, session)
            return result
        headers = [{"name": "Content-Type", "value": result.content_type or "text/html"}]
        await pipe.send("Fetch.fulfillRequest", {
            "requestId": request_id, "responseCode": result.status or 200,
            "responseHeaders": headers, "body": base64.b64encode(result.body).decode()}, session)
        return result


class RoutingFetcher:
    """Plain HTTP for most shops; the browser for hosts configured as script-rendered."""

    def __init__(self, fetcher: Fetcher, browser: BrowserFetcher,
                 script_rendered_hosts: frozenset[str]) -> None:
        self._fetcher = fetcher
        self._browser = browser
        self._hosts = frozenset(h.lower() for h in script_rendered_hosts)

    def _rendered(self, url: str) -> bool:
        from urllib.parse import urlsplit

        host = (urlsplit(url).hostname or "").lower()
        return any(host == h or host.endswith("." + h) for h in self._hosts)

    async def fetch(self, url: str) -> FetchResult:
        if self._rendered(url):
            return await self._browser.fetch(url)
        return await self._fetcher.fetch(url)
