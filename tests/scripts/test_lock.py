"""The lock installs on every supported Python, and `make setup` refuses an older one.

The oracle is pip's own resolver (scripts/lock.py runs it with --python-version), asked
about the committed requirements.txt: no network beyond the package index.
"""
from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRE_PYTHON = ROOT / "scripts" / "require-python.sh"


def _load_lock_module():
    spec = importlib.util.spec_from_file_location("autobuy_lock", ROOT / "scripts" / "lock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lock = _load_lock_module()


def test_the_lock_installs_on_every_supported_python():
    failures = lock.check_all(ROOT / "requirements.txt", list(lock.SUPPORTED))
    assert not failures, "\n".join(
        f"requirements.txt: {pins} cannot install on Python {version} ({lock.SUPPORTED[version]});"
        " run `make lock`" for version, pins in failures.items())


def test_the_check_names_the_pin_and_the_python_it_cannot_install_on(tmp_path):
    # soupsieve 4.1.3 requires Python >= 3.11.5: Debian 12's 3.11.2 cannot install it
    # (the pin that broke `make local` on a fresh Debian 12), 3.13 can.
    bad = tmp_path / "requirements.txt"
    bad.write_text("soupsieve==4.1.3\n")
    assert lock.check_all(bad, ["3.11.2", "3.13"]) == {"3.11.2": "soupsieve==4.1.3"}

    out = subprocess.run(
        [str(ROOT / ".venv/bin/python"), str(ROOT / "scripts/lock.py"), "check", "--lock", str(bad),
         "3.11.2"], capture_output=True, text=True, check=False)
    assert out.returncode == 1
    assert "Python 3.11.2 (Debian 12): cannot install soupsieve==4.1.3" in out.stdout


def test_lock_is_resolved_for_the_oldest_supported_python_and_setup_refuses_older():
    oldest = min(lock.SUPPORTED, key=lambda v: tuple(int(p) for p in v.split(".")))
    assert lock.OLDEST == oldest == "3.11.2"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(rf"^MIN_PYTHON := {re.escape(oldest)}$", makefile, re.M)
    assert "scripts/require-python.sh $(MIN_PYTHON) $(PYTHON)" in makefile
    header = (ROOT / "requirements.txt").read_text().splitlines()[0]
    assert f"for Python {oldest}" in header


def test_readme_names_each_supported_system_with_its_python():
    readme = (ROOT / "README.md").read_text()
    for version, system in lock.SUPPORTED.items():
        assert re.search(rf"{re.escape(system)}[^\n|]*\|[^\n]*{re.escape(version)}", readme), (system, version)


def _fake_python(tmp_path: Path, version: str) -> Path:
    """An interpreter that reports `version` the way require-python.sh asks for it."""
    fake = tmp_path / f"python{version}"
    fake.write_text(f"#!/bin/sh\necho {version}\n")
    fake.chmod(0o755)
    return fake


@pytest.mark.parametrize("version", ["3.9.2", "3.10.12", "3.11.1", "2.7.18"])
def test_setup_refuses_an_older_python_saying_what_to_install(tmp_path, version):
    out = subprocess.run([str(REQUIRE_PYTHON), "3.11.2", str(_fake_python(tmp_path, version))],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 1
    assert f"is Python {version}; AutoBuy Guard needs Python 3.11.2 or newer" in out.stderr
    assert "Debian 12 (Python 3.11.2)" in out.stderr and "python3-venv" in out.stderr
    assert "make setup PYTHON=" in out.stderr


@pytest.mark.parametrize("version", ["3.11.2", "3.11.10", "3.12.3", "3.13.0"])
def test_setup_accepts_each_supported_python(tmp_path, version):
    out = subprocess.run([str(REQUIRE_PYTHON), "3.11.2", str(_fake_python(tmp_path, version))],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr


def test_setup_says_what_to_install_when_there_is_no_python(tmp_path):
    out = subprocess.run([str(REQUIRE_PYTHON), "3.11.2", str(tmp_path / "missing-python")],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 1
    assert "install python3 and python3-venv" in out.stderr
