"""Blocked-page detection: CAPTCHA and bot-check pages never become prices or alerts.

A check whose response is blocked is recorded as ``blocked``: no price, no alert, and
the scheduler may back off that domain. Detection is deliberately conservative about
what counts as a *strong* marker: vendor challenge pages (Amazon's captcha form,
Cloudflare's interstitial, DataDome, PerimeterX, Imperva/Incapsula, Akamai) carry
unmistakable markers, while words such as "captcha" or "robot" alone only count when
the status is 403/429/503 (a product page may well have a reCAPTCHA-protected form).
"""

from __future__ import annotations

import re

__all__ = ["MIN_BODY_BYTES", "BLOCK_STATUSES", "block_reason"]

MIN_BODY_BYTES = 512
BLOCK_STATUSES = frozenset({403, 429, 503})
_SCAN_CHARS = 65536

_STRONG_MARKERS: tuple[tuple[str, str], ...] = (
    ("/errors/validatecaptcha", "Amazon captcha form"),
    ("enter the characters you see below", "Amazon captcha form"),
    ("geben sie die unten angezeigten zeichen ein", "Amazon captcha form"),
    ("saisissez les caractères que vous voyez", "Amazon captcha form"),
    ("_cf_chl_opt", "Cloudflare challenge"),
    ("cf-browser-verification", "Cloudflare challenge"),
    ("captcha-delivery.com", "DataDome captcha"),
    ("px-captcha", "PerimeterX captcha"),
    ("_incapsula_resource", "Imperva/Incapsula challenge"),
    ("pardon our interruption", "Imperva bot check"),
    ("/_sec/cp_challenge", "Akamai challenge"),
    ("errors.edgesuite.net", "Akamai access denied"),
    ("checking your browser before accessing", "browser check"),
    ("verify you are human", "human verification"),
    ("bestätigen sie, dass sie ein mensch sind", "human verification"),
    ("sind sie ein roboter", "robot check"),
    ("are you a robot", "robot check"),
    ("êtes-vous un robot", "robot check"),
)
_TITLE_MARKERS = (
    "robot check", "captcha", "just a moment", "attention required", "access denied",
    "bot check", "are you human", "security check", "sicherheitsüberprüfung",
    "zugriff verweigert", "accès refusé", "request blocked",
)
_WEAK_MARKERS = ("captcha", "robot", "bot ", "blocked", "access denied", "unusual traffic",
                 "verify", "automated")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.S)
# Searched as lower-cased UTF-8 bytes: bytes search is several times faster than str
# search on non-ASCII text, and this runs on every fetched page.
_STRONG_BYTES = tuple((m.encode(), r) for m, r in _STRONG_MARKERS)
_TITLE_BYTES = tuple(m.encode() for m in _TITLE_MARKERS)
_WEAK_BYTES = tuple(m.encode() for m in _WEAK_MARKERS)


def _head_bytes(body: bytes | str) -> bytes:
    if isinstance(body, str):
        body = body[:_SCAN_CHARS].encode("utf-8", "replace")
    return body[:_SCAN_CHARS].lower()


def block_reason(body: bytes | str, status: int | None = None) -> str | None:
    """Why this response is a blocked page (e.g. "Cloudflare challenge"), or None.

    ``status`` is the HTTP status when known (None for a saved file). Tiny or empty
    bodies count as blocked: shops do not serve product pages under 512 bytes, but bot
    walls often answer with an empty 200.
    """
    if len(body.strip()) < MIN_BODY_BYTES:
        return "empty or tiny body"
    head = _head_bytes(body)
    for marker, reason in _STRONG_BYTES:
        if marker in head:
            return reason
    match = _TITLE.search(head)
    title = match.group(1).strip() if match else b""
    for marker in _TITLE_BYTES:
        if marker in title:
            return f"bot-check page ({marker.decode()!r} in title)"
    if status in BLOCK_STATUSES:
        for marker in _WEAK_BYTES:
            if marker in head:
                return f"HTTP {status} with bot marker {marker.decode().strip()!r}"
    return None
