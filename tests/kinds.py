"""Pytest plugin: what kind of test each test is, a count by kind, and the CI skip rule.

Loaded by ``tests/conftest.py`` (its hooks are imported there). docs/testing.md explains
the kinds.

- Each collected test gets a marker per real-stack kind it has, taken from the fixtures it
  uses (the whole fixture closure) and its markers:

  ===========  ==========================================================
  localcloud   uses the ``localcloud`` fixture (the session's moto-based local cloud)
  mariadb      uses the ``mariadb`` fixture (a private MariaDB on loopback)
  docker       marked ``docker`` (runs containers on the Docker engine)
  chromium     uses the ``chromium`` fixture (Debian's headless Chromium)
  playbook     marked ``playbook`` (runs ``ansible-playbook``)
  twin         marked ``twin`` (the local cloud's stand-ins: load balancer, boot, ...)
  ===========  ==========================================================

  Each kind's own marker (``@pytest.mark.localcloud`` ...) sets it too, for tests that
  start what they need themselves (a private local cloud, the ``localcloud`` CLI).
  A test with none of them is ``pure`` (pure functions, in-memory fakes, loopback stubs).
- The end of the run prints ``test kinds: ...``: how many passed/failed/skipped per kind.
- Under ``CI=true`` a real-stack test that skips FAILS: a missing engine, image or browser
  must not turn into a green run that tested less than it says.
"""
from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest

# kind (also its marker) -> (fixture that implies it or None, label)
KINDS: dict[str, tuple[str | None, str]] = {
    "localcloud": ("localcloud", "local cloud"),
    "mariadb": ("mariadb", "MariaDB"),
    "docker": (None, "Docker"),
    "chromium": ("chromium", "Chromium"),
    "playbook": (None, "playbook runs"),
    "twin": (None, "twin"),
}
_MARKERS = {
    "localcloud": "talks to a local cloud (also applied from the fixtures used)",
    "mariadb": "uses the private MariaDB (also applied from the fixtures used)",
    "chromium": "drives headless Chromium (also applied from the fixtures used)",
    "playbook": "runs ansible-playbook",
    "twin": "needs the twin's stand-ins (containers started by the local cloud)",
    "real_stack": "any of localcloud, mariadb, docker, chromium, playbook, twin (applied)",
    "pure": "none of the real-stack kinds (applied)",
}
_KEY = pytest.StashKey[tuple[str, ...]]()
_RESULTS = pytest.StashKey[dict[str, Counter[str]]]()


def kinds_of(item: pytest.Item) -> tuple[str, ...]:
    fixtures = set(getattr(item, "fixturenames", ()))
    found = []
    for kind, (fixture, _label) in KINDS.items():
        if (fixture and fixture in fixtures) or item.get_closest_marker(kind):
            found.append(kind)
    return tuple(found)


def ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def pytest_configure(config: pytest.Config) -> None:
    for name, text in _MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    if not any(line.startswith("docker:") for line in config.getini("markers")):
        config.addinivalue_line("markers", "docker: needs the Docker engine")
    config.stash[_RESULTS] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        kinds = kinds_of(item)
        item.stash[_KEY] = kinds
        for kind in kinds:
            if not item.get_closest_marker(kind):
                item.add_marker(kind)
        item.add_marker("real_stack" if kinds else "pure")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]):
    report = yield
    kinds = item.stash.get(_KEY, ())
    if report.skipped and kinds and ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (f"{', '.join(kinds)} test skipped under CI=true, which must run it: "
                           f"{reason}")
    outcome = _outcome(report)
    if outcome:
        results = item.config.stash[_RESULTS]
        for kind in kinds or ("pure",):
            results.setdefault(kind, Counter())[outcome] += 1
        if kinds:
            results.setdefault("real_stack", Counter())[outcome] += 1
    return report


def _outcome(report: pytest.TestReport) -> str | None:
    """One outcome per test: the call's, or the setup's when setup did not pass."""
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if hasattr(report, "wasxfail"):
            return "xfailed" if report.skipped else "xpassed"
        return "skipped" if report.skipped else report.outcome
    return None


def summary_line(results: dict[str, Counter[str]]) -> str:
    def text(counts: Counter[str]) -> str:
        parts = [f"{counts['passed']} passed"]
        parts += [f"{counts[o]} {o}" for o in ("failed", "skipped", "xfailed", "xpassed")
                  if counts[o]]
        return " ".join(parts)

    real = results.get("real_stack", Counter())
    pure = results.get("pure", Counter())
    detail = ", ".join(f"{label} {text(results[kind])}" for kind, (_f, label) in KINDS.items()
                       if kind in results)
    line = f"test kinds: real-stack {text(real)}"
    if detail:
        line += f" ({detail}; a test may be of several kinds)"
    return line + f"; pure/fake {text(pure)}"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    results = config.stash.get(_RESULTS, {})
    if results:
        terminalreporter.write_line(summary_line(results))
