"""Fetching product pages: polite, bounded, and safe against SSRF at connect time.

One :class:`Fetcher` per worker process holds an ``httpx.AsyncClient`` (connection
reuse, keep-alive) whose transport resolves every host itself, refuses the connection
when any resolved address is internal (``urlguard.resolve_vetted_async``) and connects
to exactly the address it vetted — the pooled connection stays pinned to it, so a DNS
answer that changes later (rebinding) is never used. Redirects are followed by hand:
each ``Location`` passes :func:`urlguard.check_url` before it is requested, and the
connect-time check runs again for its host. Proxies from the environment are ignored
(``trust_env=False``): a proxy would resolve names where we cannot vet them.

Politeness: at most ``per_domain_concurrency`` requests in flight per host and at least
``politeness_delay`` seconds between request starts to the same host. Network errors
and 5xx are retried with jittered exponential backoff; bot walls are not retried.
Bodies are read up to ``max_body_bytes`` (decoded) and the request is abandoned beyond.

Script-rendered shops (``FetchSettings.script_rendered_hosts``) go through the
headless-browser fetch in ``autobuy.engine.browser``, whose network is this fetcher.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from autobuy.engine.blocked import block_reason
from autobuy.engine.urlguard import UnsafeURLError, check_url, resolve_vetted_async

__all__ = ["FetchResult", "FetchSettings", "Fetcher", "GuardedAsyncBackend", "guarded_transport"]

Outcome = Literal["ok", "blocked", "failed"]

_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
           "*/*;q=0.8")
_LANGUAGES = {
    "de": "de-DE,de;q=0.9,en;q=0.7", "at": "de-AT,de;q=0.9,en;q=0.7",
    "ch": "de-CH,de;q=0.9,fr-CH;q=0.8,en;q=0.7", "fr": "fr-FR,fr;q=0.9,en;q=0.7",
    "uk": "en-GB,en;q=0.9", "nl": "nl-NL,nl;q=0.9,en;q=0.7", "it": "it-IT,it;q=0.9,en;q=0.7",
    "es": "es-ES,es;q=0.9,en;q=0.7",
}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


@dataclass(frozen=True)
class FetchSettings:
    """Fetcher knobs; the defaults suit real shops (tests shorten the delays)."""

    allow_hosts: frozenset[str] = frozenset()
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    max_body_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 2
    backoff_base: float = 0.5
    per_domain_concurrency: int = 2
    politeness_delay: float = 1.0
    max_connections: int = 200  # per pool; the fetcher keeps one pool per host
    user_agent: str = _USER_AGENT
    script_rendered_hosts: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.per_domain_concurrency < 1 or self.max_redirects < 0 or self.retries < 0:
            raise ValueError("per_domain_concurrency >= 1, max_redirects >= 0, retries >= 0")


@dataclass(frozen=True)
class FetchResult:
    """One page fetch: ``ok`` (body is a page), ``blocked`` (bot wall) or ``failed``."""

    url: str
    outcome: Outcome
    status: int | None = None
    body: bytes = b""
    reason: str | None = None
    attempts: int = 1
    elapsed: float = 0.0
    content_type: str = ""


class GuardedAsyncBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that resolves, vets and connects to the vetted address."""

    def __init__(self, allow_hosts: Iterable[str] = (),
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._allow = frozenset(allow_hosts)
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[tuple] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.wait_for(resolve_vetted_async(host, port, self._allow),
                                               timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address,
                                                     socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[tuple] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise UnsafeURLError("unix sockets are never fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_transport(settings: FetchSettings,
                      backend: httpcore.AsyncNetworkBackend | None = None,
                      ) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every new connection goes through the guard."""
    limits = httpx.Limits(max_connections=settings.max_connections,
                          max_keepalive_connections=settings.max_connections)
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    # httpx has no public hook for the network backend; swap the pool it built for one
    # with the same settings and our backend.
    old = transport._pool  # noqa: SLF001
    transport._pool = httpcore.AsyncConnectionPool(  # noqa: SLF001
        ssl_context=old._ssl_context,  # noqa: SLF001
        max_connections=settings.max_connections,
        max_keepalive_connections=settings.max_connections,
        keepalive_expiry=5.0,
        network_backend=backend or GuardedAsyncBackend(settings.allow_hosts),
    )
    return transport


def _accept_language(host: str) -> str:
    tld = "uk" if host.endswith(".co.uk") else host.rsplit(".", 1)[-1]
    return _LANGUAGES.get(tld, "en-US,en;q=0.9,de;q=0.6")


class _HostGate:
    """Per-host concurrency limit and minimum spacing between request starts."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self.slots = asyncio.Semaphore(concurrency)
        self.delay = delay
        self.lock = asyncio.Lock()
        self.next_start = 0.0

    async def wait_turn(self) -> None:
        async with self.lock:
            now = time.monotonic()
            if self.next_start > now:
                await asyncio.sleep(self.next_start - now)
            self.next_start = max(now, self.next_start) + self.delay


class Fetcher:
    """Fetch product pages; use as ``async with Fetcher(settings) as f: await f.fetch(url)``."""

    def __init__(self, settings: FetchSettings,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._gates: dict[str, _HostGate] = {}
        self._transport = transport
        self._clients: dict[str, httpx.AsyncClient] = {}

    def _client(self, host: str) -> httpx.AsyncClient:
        """One client (connection pool) per host, sized to the per-host limit.

        httpcore's pool assigns requests by scanning all its connections, so one big pool
        shared by every shop costs O(connections) per request; small per-host pools keep
        that constant and double as the per-host connection limit.
        """
        client = self._clients.get(host)
        if client is None:
            settings = replace(self.settings, max_connections=self.settings.per_domain_concurrency)
            client = httpx.AsyncClient(
                transport=self._transport or guarded_transport(settings),
                follow_redirects=False,
                trust_env=False,
                timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
                headers={"User-Agent": settings.user_agent, "Accept": _ACCEPT,
                         "Accept-Encoding": "gzip, deflate", "Upgrade-Insecure-Requests": "1",
                         "Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate",
                         "Sec-Fetch-Site": "none", "Sec-Fetch-User": "?1"},
            )
            self._clients[host] = client
        return client

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    def _gate(self, host: str) -> _HostGate:
        gate = self._gates.get(host)
        if gate is None:
            gate = _HostGate(self.settings.per_domain_concurrency, self.settings.politeness_delay)
            self._gates[host] = gate
        return gate

    async def fetch(self, url: str, *, raw: bool = False) -> FetchResult:
        """Fetch ``url`` following safe redirects; never raises for network trouble.

        ``raw`` (sub-resources for the browser fetch): any status and content type is
        returned as ``ok`` without bot-wall classification; the guard still applies.
        """
        started = time.monotonic()
        attempts = 0
        try:
            current = check_url(url, allow_hosts=self.settings.allow_hosts)
        except UnsafeURLError as exc:
            return FetchResult(url, "failed", reason=f"unsafe URL: {exc}", attempts=0)
        for _hop in range(self.settings.max_redirects + 1):
            result, location, used = await self._fetch_with_retries(current, raw)
            attempts += used
            if location is None:
                return _finish(result, attempts, started)
            try:
                current = check_url(urljoin(current, location),
                                    allow_hosts=self.settings.allow_hosts)
            except UnsafeURLError as exc:
                return _finish(FetchResult(current, "failed", result.status,
                                           reason=f"unsafe redirect: {exc}"), attempts, started)
        return _finish(FetchResult(current, "failed", reason="too many redirects"), attempts,
                       started)

    async def _fetch_with_retries(self, url: str,
                                  raw: bool) -> tuple[FetchResult, str | None, int]:
        attempt = 0
        while True:
            attempt += 1
            result, location, retry = await self._fetch_once(url, raw)
            if not retry or attempt > self.settings.retries:
                return result, location, attempt
            delay = self.settings.backoff_base * (2 ** (attempt - 1)) * random.uniform(0.5, 1.5)
            await asyncio.sleep(delay)

    async def _fetch_once(self, url: str, raw: bool) -> tuple[FetchResult, str | None, bool]:
        """(result, redirect location or None, retry?)."""
        host = (urlsplit(url).hostname or "").lower()
        gate = self._gate(host)
        self._client(host)  # built before the turn: the delay spaces sends, not set-up work
        async with gate.slots:
            await gate.wait_turn()
            try:
                return await self._request(url, host, raw)
            except UnsafeURLError as exc:
                return FetchResult(url, "failed", reason=f"unsafe address: {exc}"), None, False
            except httpx.TransportError as exc:
                kind = type(exc).__name__
                return FetchResult(url, "failed", reason=f"network error: {kind}"), None, True

    async def _request(self, url: str, host: str,
                       raw: bool) -> tuple[FetchResult, str | None, bool]:
        headers = {"Accept-Language": _accept_language(host)}
        async with self._client(host).stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status in _REDIRECTS:
                location = response.headers.get("location")
                if not location:
                    return FetchResult(url, "failed", status, reason="redirect without Location"), \
                        None, False
                return FetchResult(url, "ok", status), location, False
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > self.settings.max_body_bytes:
                    return FetchResult(url, "failed", status, reason=(
                        f"body larger than {self.settings.max_body_bytes} bytes")), None, False
            content_type = response.headers.get("content-type", "text/html").lower()
        if raw:
            return FetchResult(url, "ok", status, bytes(body), content_type=content_type), \
                None, False
        return _classify(url, status, bytes(body), content_type)


def _classify(url: str, status: int, body: bytes,
              content_type: str) -> tuple[FetchResult, str | None, bool]:
    if status < 300 or status in (403, 429, 503):
        reason = block_reason(body, status)
        if reason is not None:
            return FetchResult(url, "blocked", status, body, reason), None, False
    if status >= 500:
        return FetchResult(url, "failed", status, body, f"HTTP {status}"), None, True
    if status >= 400:
        return FetchResult(url, "failed", status, body, f"HTTP {status}"), None, False
    if not content_type.startswith(_HTML_TYPES):
        return FetchResult(url, "failed", status, reason=f"not an HTML page ({content_type})"), \
            None, False
    return FetchResult(url, "ok", status, body, content_type=content_type), None, False


def _finish(result: FetchResult, attempts: int, started: float) -> FetchResult:
    return replace(result, attempts=attempts, elapsed=time.monotonic() - started)
