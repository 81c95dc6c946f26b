"""Fixtures shared by the whole suite.

``localcloud`` starts one local cloud (moto + localcloud extensions) per test
session on a free loopback port and points boto3 and Ansible at it through the
environment. Tests that need a clean slate call ``localcloud_reset``.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kinds import (  # noqa: F401 - hooks: test kinds, their count, the CI skip rule
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_makereport,
    pytest_terminal_summary,
)

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-central-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def warm_python_servers() -> Iterator[None]:
    """The playbooks' warm module servers (plugins/connection/warm_local.py) of this
    session live in a private directory and stop with the session."""
    directory = tempfile.mkdtemp(prefix="warm", dir="/tmp")
    saved = os.environ.get("AUTOBUY_WARM_PYTHON_DIR")
    os.environ["AUTOBUY_WARM_PYTHON_DIR"] = directory
    try:
        yield
    finally:
        subprocess.run(["pkill", "-TERM", "-f", f"warm_python.py {directory}/"], check=False)
        if saved is None:
            os.environ.pop("AUTOBUY_WARM_PYTHON_DIR", None)
        else:
            os.environ["AUTOBUY_WARM_PYTHON_DIR"] = saved
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def localcloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a local cloud running for this test session."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("localcloud") / "localcloud.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localcloud", "serve", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/localcloud/calls", timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"local cloud did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
    saved = {k: os.environ.get(k) for k in _AWS_ENV}
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)
    os.environ.update(_aws_env(url))
    try:
        yield url
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


_AWS_ENV = (
    "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_SESSION_TOKEN", "AWS_PROFILE",
)


def _aws_env(url: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "localcloud",
        "AWS_SECRET_ACCESS_KEY": "localcloud",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }


@pytest.fixture
def localcloud_reset(localcloud: str):
    """Call to wipe every resource of the local cloud (moto's reset)."""

    def reset() -> None:
        req = urllib.request.Request(localcloud + "/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).close()

    return reset
