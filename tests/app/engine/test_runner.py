"""The worker process: refuses bad settings, runs against the local cloud, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest

from autobuy.schema import create_table_params, load_tables


def test_missing_queue_url_is_a_clear_error() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOBUY_")}
    proc = subprocess.run([sys.executable, "-m", "autobuy.engine.worker"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    assert "AUTOBUY_CHECKS_QUEUE_URL" in proc.stderr


@pytest.mark.parametrize("command", [["-m", "autobuy.engine"], ["-m", "autobuy.engine.worker"]])
def test_every_worker_command_line_refuses_a_missing_queue_url(command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOBUY_")}
    script = str(Path(sys.executable).with_name("autobuy-worker"))
    for argv in ([sys.executable, *command], [script]):
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 3, proc.stderr
        assert "autobuy-worker: invalid settings: AUTOBUY_CHECKS_QUEUE_URL" in proc.stderr


def test_running_the_worker_module_does_not_import_it_a_second_time() -> None:
    script = ("import runpy, sys\n"
              "sys.argv = ['worker']\n"
              "try:\n"
              "    runpy.run_module('autobuy.engine.worker', run_name='__main__', alter_sys=True)\n"
              "except SystemExit:\n"
              "    pass\n"
              "print(sorted(m for m in sys.modules if m.startswith('autobuy.engine.worker')))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOBUY_")}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=60)
    assert "AUTOBUY_CHECKS_QUEUE_URL" in proc.stderr  # it did run the worker's main
    assert proc.stdout.strip() == "[]", proc.stdout


@pytest.mark.slow
def test_worker_process_runs_and_stops_gracefully_on_sigterm(localcloud: str) -> None:
    prefix = f"run{uuid.uuid4().hex[:8]}_"
    ddb = boto3.client("dynamodb")
    for table in load_tables():
        ddb.create_table(**create_table_params(table, prefix))
    queue_url = boto3.client("sqs").create_queue(QueueName=f"{prefix}autobuy-checks")["QueueUrl"]
    env = {**os.environ, "AUTOBUY_ENV": "development", "AUTOBUY_AWS_ENDPOINT_URL": localcloud,
           "AUTOBUY_TABLE_PREFIX": prefix, "AUTOBUY_CHECKS_QUEUE_URL": queue_url,
           "AUTOBUY_ENGINE_TICK_SECONDS": "0.5"}
    proc = subprocess.Popen([sys.executable, "-m", "autobuy.engine.worker"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert time.monotonic() - started < 10
    assert "worker stopped" in err
