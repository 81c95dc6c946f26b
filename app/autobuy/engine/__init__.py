"""The price engine: safe fetching, price extraction, checks, alerts and guarded auto-buy.

Modules:
    urlguard   SSRF guard for item URLs (no DNS) and for resolved addresses (connect time).
    extract    structured-data-first price extraction (``extract(html, url) -> Extraction``).
    blocked    bot-check / CAPTCHA / empty-page detection.
    fetch      httpx-based fetcher with the guard at connect time and on every redirect.
    checks     one check end to end; ``CheckPolicy.from_tiers`` derives the schedule.
    scheduler, queue, consumer   due items -> SQS -> the worker loop.
    runner     composition root of the worker process (``python -m autobuy.engine``,
               ``autobuy-worker``, or ``python -m autobuy.engine.worker``).
    cli        ``autobuy-extract --url URL FILE.html``.

What the engine shares with the API (tables, attributes, due shard, queue message) is
``autobuy.contract``.
"""
