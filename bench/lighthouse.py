"""Lighthouse 12 against the web app: performance, accessibility, best practices, and the
JavaScript the first page loads (gzipped), with the issue's targets beside them.

    python bench/lighthouse.py                     # the twin's web_url (.localcloud/twin.json)
    python bench/lighthouse.py --url https://127.0.0.1:9443/ --runs 3

Lighthouse comes from npm: `make lighthouse` installs 12.8.2 into .cache/lighthouse and runs
this script with it (or `npm i -E lighthouse@12` in a directory of your choice and give its
binary with --lighthouse or LIGHTHOUSE); Chromium from Debian (--chrome or CHROME_PATH,
default /usr/bin/chromium; `make lighthouse` installs the package when it is missing). Lighthouse's default mobile profile (simulated slow 4G, 4x CPU
slowdown) is used; the median of --runs runs is printed. The JavaScript figure is every
script the page requested, gzipped here at level 9 (what it weighs over the wire
whether or not the server compressed it), plus what the server actually sent.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = ("performance", "accessibility", "best-practices")
TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 100}
JS_BUDGET_KB = 60.0


def twin_web_url() -> str:
    twin = ROOT / ".localcloud" / "twin.json"
    try:
        url = json.loads(twin.read_text()).get("web_url")
    except (OSError, ValueError):
        url = None
    if not url:
        raise SystemExit(f"lighthouse: no web_url in {twin}: start the twin (make local) or give --url")
    return url


def run_lighthouse(binary: str, chrome: str, url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        cmd = [binary, url, "--output=json", f"--output-path={out}", "--quiet",
               f"--only-categories={','.join(CATEGORIES)}",
               "--chrome-flags=--headless=new --no-sandbox --ignore-certificate-errors"]
        done = subprocess.run(cmd, env={**os.environ, "CHROME_PATH": chrome}, capture_output=True,
                              text=True, timeout=300, check=False)
        if done.returncode != 0 or not out.exists():
            raise SystemExit(f"lighthouse failed ({done.returncode}): {done.stderr[-2000:]}")
        return json.loads(out.read_text())


def scores(report: dict[str, Any]) -> dict[str, float]:
    return {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}


def scripts(report: dict[str, Any]) -> list[dict[str, Any]]:
    items = report["audits"]["network-requests"]["details"]["items"]
    return [i for i in items if i.get("resourceType") == "Script"]


def gzipped_kb(urls: list[str]) -> float:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the twin's private CA
    total = 0
    for url in urls:
        with urllib.request.urlopen(url, context=context, timeout=30) as answer:  # noqa: S310 - loopback
            total += len(gzip.compress(answer.read(), compresslevel=9))
    return total / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="page to measure (default: the twin's web_url)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lighthouse", default=os.environ.get("LIGHTHOUSE") or shutil.which("lighthouse"))
    parser.add_argument("--chrome", default=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    args = parser.parse_args(argv)
    if not args.lighthouse or not Path(args.lighthouse).exists():
        raise SystemExit("lighthouse: no Lighthouse binary: `npm i -E lighthouse@12` somewhere and give "
                         "--lighthouse DIR/node_modules/.bin/lighthouse (or LIGHTHOUSE)")
    if args.runs < 1:
        raise SystemExit("lighthouse: --runs must be at least 1")
    url = args.url or twin_web_url()
    reports = [run_lighthouse(args.lighthouse, args.chrome, url) for _ in range(args.runs)]
    median = {c: statistics.median(scores(r)[c] for r in reports) for c in CATEGORIES}
    first = scripts(reports[0])
    js_gz = gzipped_kb([s["url"] for s in first])
    js_sent = sum(s.get("transferSize", 0) for s in first) / 1024
    print(f"Lighthouse {reports[0]['lighthouseVersion']} on {url} ({args.runs} runs, median; "
          f"{reports[0]['configSettings']['formFactor']}, {reports[0]['configSettings']['throttlingMethod']})")
    for category in CATEGORIES:
        mark = "ok" if median[category] >= TARGETS[category] else "BELOW"
        print(f"  {category:15} {median[category]:5.0f}   target >= {TARGETS[category]}  {mark}")
    mark = "ok" if js_gz <= JS_BUDGET_KB else "BELOW"
    print(f"  first-page JS   {js_gz:5.1f} KB gzipped ({len(first)} scripts; {js_sent:.1f} KB as sent)"
          f"   target <= {JS_BUDGET_KB:.0f} KB  {mark}")
    for audit in ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
                  "cumulative-layout-shift"):
        print(f"  {audit:26} {reports[0]['audits'][audit]['displayValue']}")
    failed = [a["id"] for a in reports[0]["audits"].values()
              if a.get("score") is not None and a["score"] < 1 and a.get("scoreDisplayMode") == "binary"]
    if failed:
        print(f"  failed binary audits: {', '.join(sorted(failed))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
