"""``autobuy-extract --url URL FILE.html``: what the engine reads from a saved page.

Prints one JSON object, e.g.
``{"price": "1299.99", "currency": "EUR", "availability": "in_stock", "source": "json-ld"}``
(price as a decimal string, null when none is found). For people debugging a shop.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from autobuy.engine.extract import extract

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autobuy-extract",
        description="Extract price, currency and availability from a saved product page.",
    )
    parser.add_argument("--url", required=True,
                        help="the page's URL (its domain and path select locale and adapter)")
    parser.add_argument("file", type=Path, help="the saved HTML file ('-' reads stdin)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    parts = urlsplit(args.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        parser.error(f"--url must be an http(s) URL with a host, got {args.url!r}")
    try:
        html = sys.stdin.buffer.read() if str(args.file) == "-" else args.file.read_bytes()
    except OSError as exc:
        parser.error(f"cannot read {args.file}: {exc.strerror}")
    print(json.dumps(extract(html, args.url).to_json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
