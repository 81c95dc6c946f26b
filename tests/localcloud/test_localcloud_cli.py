"""The command line: start is idempotent, status tells, stop stops (and never a stranger)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from localcloud_helpers import ROOT, free_port


def _cli(state: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOCALCLOUD_STATE_DIR": str(state)}
    return subprocess.run([sys.executable, "-m", "localcloud", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.localcloud  # starts its own
def test_start_status_stop(tmp_path: Path) -> None:
    port = str(free_port())
    try:
        first = _cli(tmp_path, "start", "--port", port)
        again = _cli(tmp_path, "start", "--port", port)
        status = _cli(tmp_path, "status", "--port", port)
    finally:
        stopped = _cli(tmp_path, "stop", "--port", port)
    after = _cli(tmp_path, "status", "--port", port)

    assert first.returncode == 0 and "started" in first.stdout
    assert again.returncode == 0 and "already running" in again.stdout
    assert status.returncode == 0 and "running" in status.stdout
    assert (tmp_path / f"localcloud-{port}.log").exists()
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert after.returncode == 1


def test_stop_ignores_a_stale_pid_file(tmp_path: Path) -> None:
    port = str(free_port())
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        (tmp_path / f"localcloud-{port}.pid").write_text(str(sleeper.pid))
        result = _cli(tmp_path, "stop", "--port", port)
        assert sleeper.poll() is None  # the unrelated process still runs
    finally:
        sleeper.kill()
        sleeper.wait()
    assert "stale pid file" in result.stdout
    assert not (tmp_path / f"localcloud-{port}.pid").exists()


@pytest.mark.localcloud  # starts its own
def test_a_running_cloud_with_an_rds_instance_is_seen_as_running(tmp_path: Path) -> None:
    """moto's /moto-api/data.json fails (500) once an RDS instance exists; start must not
    then take the running cloud for dead and try to start a second one on its port."""
    import boto3

    port = str(free_port())
    url = f"http://127.0.0.1:{port}"
    try:
        assert _cli(tmp_path, "start", "--port", port).returncode == 0
        rds = boto3.client("rds", endpoint_url=url, region_name="eu-central-1",
                           aws_access_key_id="x", aws_secret_access_key="x")
        rds.create_db_instance(DBInstanceIdentifier="probe", Engine="mysql",
                               DBInstanceClass="db.t4g.micro", AllocatedStorage=20,
                               MasterUsername="admin", MasterUserPassword="not-a-secret-1")
        again = _cli(tmp_path, "start", "--port", port)
        status = _cli(tmp_path, "status", "--port", port)
    finally:
        _cli(tmp_path, "stop", "--port", port)
    assert again.returncode == 0 and "already running" in again.stdout, again.stdout + again.stderr
    assert status.returncode == 0
