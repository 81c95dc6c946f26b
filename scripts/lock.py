#!/usr/bin/env python3
"""The lock file, resolved for the oldest Python we support and checked against every one.

    python scripts/lock.py compile [--upgrade]    `make lock` / `make lock-upgrade`
    python scripts/lock.py check [VERSION ...]     every supported Python by default

`compile` resolves requirements.in with pip's own resolver for Python OLDEST (pip's
`--python-version`, so a release whose Requires-Python excludes Debian 12's 3.11.2 is
never picked, whatever interpreter runs it). It keeps the current pins as preferences
(like pip-compile): only a pin that cannot install is re-resolved, unless --upgrade.
`check` asks pip's resolver whether requirements.txt installs, as pinned, on each
supported Python, and names the pin and the Python when it does not.

Only pip and the package index are used (no network beyond the index). Standard library
only: the Makefile runs this before anything else is installed.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# The systems we support and their Python (named in the README). The oldest one is the
# target of the lock; `make setup` refuses anything older (Makefile: MIN_PYTHON).
SUPPORTED = {
    "3.11.2": "Debian 12",
    "3.12": "Ubuntu 24.04",
    "3.13": "Debian 13",
}
OLDEST = "3.11.2"

ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "# Pinned by `make lock` from requirements.in for Python {oldest} (Debian 12, the oldest\n"
    "# supported); `make test` checks that every pin installs on {versions}. Do not edit by hand.\n"
)

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")
# pip's last words when a requirement cannot be met.
_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_REQUESTED = re.compile(r"The user requested (?:\(constraint\) )?(\S+==\S+)")


class LockError(Exception):
    """The resolver could not produce or install the lock; the message says why."""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, str]:
    """`name==version` lines of a requirements file, by canonical name."""
    pins = {}
    for line in path.read_text().splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[canonical(match.group(1))] = f"{match.group(1)}=={match.group(2)}"
    return pins


def _pip_resolve(requirements: list[Path], python: str, *, constraints: Path | None = None,
                 report: Path | None = None) -> subprocess.CompletedProcess:
    """Run pip's resolver for `python` without installing anything."""
    with tempfile.TemporaryDirectory(prefix="autobuy-lock-") as target:
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
               "--disable-pip-version-check", "--only-binary=:all:",
               "--python-version", python, "--target", target]
        for req in requirements:
            cmd += ["-r", str(req)]
        if constraints is not None:
            cmd += ["-c", str(constraints)]
        if report is not None:
            cmd += ["--report", str(report)]
        return subprocess.run(cmd, capture_output=True, text=True, check=False)


def _failure(result: subprocess.CompletedProcess) -> str:
    """The pins pip could not meet (', '-separated), from its error output."""
    text = result.stderr + result.stdout
    for pattern in (_NO_MATCH, _REQUESTED):
        found = list(dict.fromkeys(pattern.findall(text)))
        if found:
            return ", ".join(found)
    errors = [line for line in text.splitlines() if line.startswith("ERROR")]
    return errors[-1] if errors else text.strip()[-500:] or f"pip exited {result.returncode}"


def check(lock: Path, python: str) -> str | None:
    """None when every pin of `lock` installs on `python`, else what does not."""
    result = _pip_resolve([lock], python)
    if result.returncode == 0:
        return None
    return _failure(result)


def check_all(lock: Path, versions: list[str]) -> dict[str, str]:
    """{python: failure} for each version the lock does not install on (run side by side)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(versions)) as pool:
        results = dict(zip(versions, pool.map(lambda v: check(lock, v), versions)))
    return {version: failure for version, failure in results.items() if failure}


def compile_lock(requirements_in: Path, lock: Path, *, upgrade: bool = False) -> list[str]:
    """Resolve `requirements_in` for OLDEST into `lock`; returns the pins that were re-resolved."""
    if sys.version_info[:2] != tuple(int(p) for p in OLDEST.split(".")[:2]):
        raise LockError(
            f"run `make lock` with Python {OLDEST.rsplit('.', 1)[0]} (this is "
            f"{sys.version.split()[0]}): pip evaluates environment markers for the interpreter "
            f"that runs it, and the lock is for Python {OLDEST}")
    preferred = {} if upgrade or not lock.exists() else read_pins(lock)
    dropped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="autobuy-lock-") as tmp:
        constraints, report = Path(tmp, "constraints.txt"), Path(tmp, "report.json")
        while True:
            constraints.write_text("".join(pin + "\n" for pin in preferred.values()))
            result = _pip_resolve([requirements_in], OLDEST, constraints=constraints, report=report)
            if result.returncode == 0:
                break
            failed = _failure(result)
            names = [canonical(_PIN.match(part.strip()).group(1))
                     for part in failed.split(",") if _PIN.match(part.strip())]
            names = [n for n in names if n in preferred]
            if not names:
                raise LockError(f"requirements.in does not resolve for Python {OLDEST}: {failed}")
            for name in names:
                dropped.append(preferred.pop(name))
        installed = json.loads(report.read_text())["install"]
    pins = sorted((item["metadata"]["name"], item["metadata"]["version"]) for item in installed)
    body = "".join(f"{name}=={version}\n" for name, version in
                   sorted(pins, key=lambda p: canonical(p[0])))
    header = HEADER.format(oldest=OLDEST, versions=", ".join(SUPPORTED))
    lock.write_text(header + body)
    return dropped


def _describe(version: str) -> str:
    return f"Python {version} ({SUPPORTED[version]})" if version in SUPPORTED else f"Python {version}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    comp = sub.add_parser("compile", help="resolve requirements.in into requirements.txt")
    comp.add_argument("--upgrade", action="store_true", help="re-resolve every pin, not only broken ones")
    comp.add_argument("--input", type=Path, default=ROOT / "requirements.in")
    comp.add_argument("--output", type=Path, default=ROOT / "requirements.txt")
    chk = sub.add_parser("check", help="check that the lock installs on each supported Python")
    chk.add_argument("versions", nargs="*", default=list(SUPPORTED))
    chk.add_argument("--lock", type=Path, default=ROOT / "requirements.txt")
    args = parser.parse_args(argv)

    os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    if args.command == "compile":
        try:
            dropped = compile_lock(args.input, args.output, upgrade=args.upgrade)
        except LockError as exc:
            print(f"lock: {exc}", file=sys.stderr)
            return 1
        for pin in dropped:
            print(f"lock: {pin} cannot install on Python {OLDEST}: re-resolved")
        print(f"lock: wrote {args.output} for Python {OLDEST}")
        return 0
    failures = check_all(args.lock, args.versions)
    for version in args.versions:
        failure = failures.get(version)
        status = f"cannot install {failure}" if failure else "every pin installs"
        print(f"lock: {_describe(version)}: {status}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
