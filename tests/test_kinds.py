"""The suite's own rules (tests/kinds.py): kinds from fixtures, the count, the CI skip rule.

Each case runs pytest on a small test file in a child process with the plugin loaded,
as the real suite loads it, and reads the outcome pytest reports.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT

SAMPLE = textwrap.dedent('''
    import pytest

    @pytest.fixture
    def localcloud():
        pytest.skip("no local cloud here")

    @pytest.fixture
    def chromium():
        return "/usr/bin/chromium"

    @pytest.mark.docker
    def test_needs_docker():
        pytest.skip("the Docker engine is not available")

    def test_on_the_local_cloud(localcloud):
        pass

    def test_in_the_browser(chromium):
        pass

    def test_pure_skip():
        pytest.skip("optional tool missing")

    def test_pure():
        pass

    @pytest.mark.docker
    @pytest.mark.xfail(reason="known", run=False)
    def test_known_failure():
        pass
''')


def run_sample(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.kinds", "-p", "no:cacheprovider",
         "-rA", "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path / "test_sample.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_outside_ci_skips_stay_skips_and_the_kinds_are_counted(tmp_path: Path) -> None:
    run = run_sample(tmp_path, ci=None)
    assert run.returncode == 0, run.stdout
    assert "2 passed, 3 skipped, 1 xfailed" in run.stdout
    assert ("test kinds: real-stack 1 passed 2 skipped 1 xfailed ("
            "local cloud 0 passed 1 skipped, Docker 0 passed 1 skipped 1 xfailed, Chromium 1 passed; a test may be of several kinds); "
            "pure/fake 1 passed 1 skipped") in run.stdout, run.stdout


@pytest.mark.parametrize("ci", ["true", "1"])
def test_under_ci_a_real_stack_skip_fails_the_run(tmp_path: Path, ci: str) -> None:
    run = run_sample(tmp_path, ci=ci)
    assert run.returncode == 1, run.stdout
    out = run.stdout
    assert "FAILED test_sample.py::test_needs_docker" in out
    assert "docker test skipped under CI=true, which must run it" in out
    assert "the Docker engine is not available" in out  # the skip's own reason is kept
    assert "ERROR test_sample.py::test_on_the_local_cloud" in out  # skipped in its fixture
    assert "SKIPPED [1] test_sample.py" in out and "optional tool missing" in out  # pure: a skip
    assert "1 xfailed" in out  # an expected failure is not a skip
