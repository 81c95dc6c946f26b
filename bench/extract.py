"""Extraction throughput on one core: the engine vs a BeautifulSoup baseline, same run.

Baseline (named "bs4+lxml"): what a typical BeautifulSoup scraper does — parse the whole
document with ``BeautifulSoup(html, "lxml")`` and find JSON-LD, microdata, meta tags and
prices through the soup. It runs *the same extraction logic* as the engine
(``extract_with`` with a BeautifulSoup implementation of the engine's ``Node``
protocol), so the two differ only in parser and in the engine's JSON-LD fast path.
Both decode the bytes the same way. Accuracy is checked for both against the corpus
manifest (price, currency, availability, source).

    .venv/bin/python bench/extract.py [--seconds 5]

Pinned to one CPU (``os.sched_setaffinity``) when the platform allows it; the two
contenders run in alternating passes so that other load on the machine hits both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from autobuy.engine.dom import Node
from autobuy.engine.extract import Extraction, decode_html, extract, extract_with

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "app" / "engine" / "corpus"


class SoupNode:
    """The engine's Node protocol over a BeautifulSoup tag."""

    __slots__ = ("_tag",)

    def __init__(self, tag: Tag) -> None:
        self._tag = tag

    @property
    def tag(self) -> str:
        return "html" if self._tag.name == "[document]" else self._tag.name

    @property
    def parent(self) -> SoupNode | None:
        return SoupNode(self._tag.parent) if self._tag.parent is not None else None

    def attr(self, name: str) -> str | None:
        value = self._tag.get(name)
        return " ".join(value) if isinstance(value, list) else value

    def text(self) -> str:
        return self._tag.get_text()

    def select(self, css: str) -> list[Node]:
        return [SoupNode(t) for t in self._tag.select(css)]

    def select_first(self, css: str) -> Node | None:
        found = self._tag.select_one(css)
        return SoupNode(found) if found is not None else None


def soup_parse(text: str) -> Node:
    soup = BeautifulSoup(text, "lxml")
    return SoupNode(soup.html if soup.html is not None else soup)


def engine(raw: bytes, url: str) -> Extraction:
    return extract(raw, url)


def baseline(raw: bytes, url: str) -> Extraction:
    return extract_with(decode_html(raw), url, soup_parse, fast_scan=False)


def _correct(result: Extraction, entry: dict) -> bool:
    price = Decimal(entry["price"]) if entry["price"] is not None else None
    return (result.price, result.currency, result.availability, result.source) == (
        price, entry["currency"], entry["availability"], entry["source"])


def accuracy(fn: Callable[[bytes, str], Extraction], pages: list[tuple[bytes, dict]]) -> int:
    return sum(_correct(fn(raw, entry["url"]), entry) for raw, entry in pages)


def _one_pass(fn: Callable[[bytes, str], Extraction], pages: list[tuple[bytes, dict]]) -> float:
    start = time.perf_counter()
    for raw, entry in pages:
        fn(raw, entry["url"])
    return time.perf_counter() - start


def measure(pages: list[tuple[bytes, dict]], seconds: float) -> tuple[float, float]:
    """(engine pages/s, baseline pages/s), measured in alternating passes so that load
    from other processes on a shared machine hits both alike."""
    ours = base = 0.0
    passes = 0
    while base < seconds or passes < 3:
        ours += _one_pass(engine, pages)
        base += _one_pass(baseline, pages)
        passes += 1
    return passes * len(pages) / ours, passes * len(pages) / base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="minimum time spent in the baseline")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    pages = [((CORPUS / e["file"]).read_bytes(), e) for e in manifest]
    size = sum(len(raw) for raw, _ in pages) / len(pages) / 1024
    ours_ok, base_ok = accuracy(engine, pages), accuracy(baseline, pages)
    ours, base = measure(pages, args.seconds)
    n = len(pages)
    print(f"corpus: {n} pages, mean {size:.0f} KiB, one core")
    print(f"engine (selectolax + JSON-LD fast path): {ours:8.1f} pages/s  accuracy {ours_ok}/{n} "
          f"({100 * ours_ok / n:.1f} %)")
    print(f"baseline bs4+lxml (same logic):          {base:8.1f} pages/s  accuracy {base_ok}/{n} "
          f"({100 * base_ok / n:.1f} %)")
    print(f"ratio engine/baseline: {ours / base:.1f}x (target >= 20x, engine accuracy 100 %)")


if __name__ == "__main__":
    main()
