"""Fixtures of the engine tests: the loopback demo shop whose prices change."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.app.support import DEMO_SHOP
from tests.conftest import free_port


@pytest.fixture(scope="module")
def demo_shop() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(DEMO_SHOP), "--port", str(port),
                             "--products", "10"], stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            urllib.request.urlopen(base + "/admin/hits", timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("demo shop did not start")
            time.sleep(0.05)
    yield base
    proc.terminate()
    proc.wait(timeout=10)
