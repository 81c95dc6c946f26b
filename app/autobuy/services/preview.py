"""Preview: what a check would see on a product page now, without storing anything.

The page is fetched by the engine's :class:`~autobuy.engine.fetch.Fetcher` (URL guard at
every redirect and at connect time, bot-wall detection, size limit) and read by the
engine's own :func:`~autobuy.engine.checks.observe`, so a preview and the checks that
follow agree (a URL that names a variant previews that variant's offer). Previews cost
the same per-user and per-IP budget as manual checks: both make the server fetch a shop.

Outcomes and their ``reason`` (stable, machine-readable; ``detail`` is for people):

========== ====================== ==================================================
outcome    reason                 meaning
========== ====================== ==================================================
ok         null                   a price and/or an availability was found
blocked    ``blocked``            the shop answered with a bot wall / captcha
failed     ``not_a_product_page`` the page was fetched but shows no price or stock
failed     ``not_allowed``        the URL guard refused an address or a redirect
failed     ``fetch_failed``       network error, HTTP error, not HTML, too large,
                                  too many redirects, or the preview took too long
========== ====================== ==================================================

A URL the guard refuses before any request (syntax, scheme, internal host) is bad input
(422), the same answer as when creating an item with it.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from autobuy.engine.checks import NO_PRICE_ON_PAGE, observe
from autobuy.engine.extract import product_name
from autobuy.engine.fetch import Fetcher, FetchResult, FetchSettings

__all__ = ["REASONS", "FetchOnce", "Preview", "PreviewFetcher", "preview_page"]

REASONS = ("blocked", "not_a_product_page", "not_allowed", "fetch_failed")
# The fetcher's reasons for a refusal by the URL guard (a redirect or a resolved address).
_REFUSED = ("unsafe URL:", "unsafe redirect:", "unsafe address:")


class PreviewFetcher(Protocol):
    def fetch(self, url: str) -> FetchResult: ...


@dataclass(frozen=True)
class Preview:
    url: str
    outcome: str  # ok | blocked | failed
    reason: str | None  # one of REASONS, None when ok
    detail: str | None
    name: str | None
    price: Decimal | None
    currency: str | None
    availability: str | None
    source: str | None
    checked_at: int


class FetchOnce:
    """A blocking fetch for one request: a fresh engine Fetcher on a private event loop,
    bounded by ``deadline`` seconds in all (redirects included), so the request ends well
    inside the API worker's timeout. No retries: a person is waiting."""

    def __init__(self, allow_hosts: frozenset[str] = frozenset(), *, deadline: float = 20.0,
                 connect_timeout: float = 4.0, read_timeout: float = 10.0) -> None:
        self._settings = FetchSettings(allow_hosts=allow_hosts, connect_timeout=connect_timeout,
                                       read_timeout=read_timeout, retries=0,
                                       politeness_delay=0.0, per_domain_concurrency=1)
        self._deadline = deadline

    def fetch(self, url: str) -> FetchResult:
        return asyncio.run(self._fetch(url))

    async def _fetch(self, url: str) -> FetchResult:
        async with Fetcher(self._settings) as fetcher:
            try:
                return await asyncio.wait_for(fetcher.fetch(url), self._deadline)
            except TimeoutError:
                return FetchResult(url, "failed",
                                   reason=f"no answer within {self._deadline:g} seconds")


def _reason(outcome: str, detail: str | None) -> str | None:
    if outcome == "ok":
        return None
    if outcome == "blocked":
        return "blocked"
    if detail == NO_PRICE_ON_PAGE:
        return "not_a_product_page"
    if detail and detail.startswith(_REFUSED):
        return "not_allowed"
    return "fetch_failed"


def preview_page(fetcher: PreviewFetcher, url: str,
                 clock: Callable[[], float] = time.time) -> Preview:
    """Fetch ``url`` (already through ``check_url``) and say what a check would see."""
    fetched = fetcher.fetch(url)
    seen, source, detail = observe(fetched)
    name = product_name(fetched.body) if fetched.outcome == "ok" and seen.outcome != "blocked" \
        else None
    return Preview(url=url, outcome=seen.outcome, reason=_reason(seen.outcome, detail),
                   detail=detail, name=name, price=seen.price, currency=seen.currency,
                   availability=seen.availability, source=source, checked_at=int(clock()))
