"""Fixtures for the local cloud's own tests.

``calls`` reads/resets the API call counter of the session's local cloud.
``quick_cloud`` starts a second local cloud whose slow resources are quick, for
the tests of the slow-resource behaviour (the session one keeps the defaults
the other areas rely on).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
QUICK_SETTINGS = {
    "LOCALCLOUD_RDS_CREATE_SECONDS": "1.5",
    "LOCALCLOUD_ALB_PROVISION_SECONDS": "1.5",
    "LOCALCLOUD_ACM_VALIDATION_SECONDS": "1.5",
}


def http(url: str, method: str = "GET") -> Any:
    """JSON answer of a local cloud route."""
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


@pytest.fixture
def calls(localcloud: str):
    """Read and reset the local cloud's API call counter."""

    class Calls:
        def reset(self) -> None:
            http(localcloud + "/localcloud/calls/reset", "POST")

        def read(self) -> dict[str, Any]:
            return http(localcloud + "/localcloud/calls")

    return Calls()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def quick_cloud(
    tmp_path_factory: pytest.TempPathFactory, localcloud: str
) -> Iterator[Callable[[str], Any]]:
    """``client(service)`` factory for a local cloud with 1.5 s slow resources."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("quick_cloud") / "localcloud.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), **QUICK_SETTINGS}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localcloud", "serve", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/data.json", timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"quick cloud did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
    try:
        yield lambda service: boto3.client(service, endpoint_url=url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
