"""gunicorn config: in-flight requests finish on SIGTERM (rolling deploys drop nothing)."""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.slow


def test_sigterm_finishes_in_flight_requests_then_exits(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2",
           "PYTHONPATH": f"{ROOT}:{ROOT / 'app'}", "SLOW_APP_STARTED": str(tmp_path / "started")}
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c",
                                 "python:autobuy.gunicorn_conf", "tests.app.slow_app:application"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/?0")
                assert conn.getresponse().status == 200
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        results: list[int] = []

        def slow() -> None:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", "/?1.5")
            results.append(c.getresponse().status)

        threads = [threading.Thread(target=slow) for _ in range(6)]
        for t in threads:
            t.start()
        # the app reports each request as it starts: SIGTERM only once all six are in flight
        deadline = time.monotonic() + 30
        while (tmp_path / "started").read_text().split().count("1.5") < 6:
            assert time.monotonic() < deadline, (tmp_path / "started").read_text()
            time.sleep(0.02)
        stopped = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join()
        proc.wait(timeout=30)
        assert results == [200] * 6
        assert proc.returncode == 0
        assert time.monotonic() - stopped < 10
        access = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        assert sum(1 for a in access if a.get("type") == "access" and a["path"] == "/") >= 7
    finally:
        if proc.poll() is None:
            proc.kill()
