"""The price engine: safe fetching, price extraction, checks, alerts and guarded auto-buy.

Modules:
    urlguard   SSRF guard for item URLs (no DNS) and for resolved addresses (connect time).
    extract    structured-data-first price extraction (``extract(html, url) -> Extraction``).
    blocked    bot-check / CAPTCHA / empty-page detection.
    fetch      httpx-based fetcher with the guard at connect time and on every redirect.
    cli        ``autobuy-extract --url URL FILE.html``.
"""
