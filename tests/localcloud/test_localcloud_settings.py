"""Bad settings stop the local cloud at start with a message naming the variable."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("name", "value"), [
    ("LOCALCLOUD_TIME_SCALE", "fast"),
    ("LOCALCLOUD_RDS_CREATE_SECONDS", "-1"),
    ("LOCALCLOUD_ALB_PROVISION_SECONDS", "5s"),
    ("LOCALCLOUD_ACM_VALIDATION_SECONDS", "-0.5"),
    ("LOCALCLOUD_SERVER_THREADS", "0"),
    ("LOCALCLOUD_SERVER_THREADS", "many"),
    ("LOCALCLOUD_SPEED_PATCHES", "fast"),
    ("LOCALCLOUD_TWIN", "yes"),
    ("LOCALCLOUD_DEMO_SHOP", "yes"),
    ("LOCALCLOUD_ALB_HTTP_PORT", "80a"),
    ("LOCALCLOUD_ALB_HTTPS_PORT", "70000"),
    ("LOCALCLOUD_WEB_HTTPS_PORT", "web"),
    ("LOCALCLOUD_ALLOW_MOTO_VERSION", "yes"),
    ("LOCALCLOUD_INSTANCES", "vms"),
    ("LOCALCLOUD_AMI_IMAGES", "debian-12-*"),
    ("LOCALCLOUD_AMI_IMAGES", "debian-12-*=autobuy/ami:debian12,=x"),
])
def test_bad_setting_is_refused_by_name(name: str, value: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), name: value}
    proc = subprocess.run(
        [sys.executable, "-m", "localcloud", "serve", "--port", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode != 0
    assert name in proc.stderr
    assert repr(value) in proc.stderr


def test_the_twin_is_off_by_default(localcloud: str) -> None:
    import json
    import urllib.request

    with urllib.request.urlopen(localcloud + "/localcloud/twin", timeout=10) as response:
        assert json.load(response) == {"enabled": False}


def test_containers_without_docker_are_refused_at_start(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": str(tmp_path),
           "LOCALCLOUD_INSTANCES": "containers"}
    proc = subprocess.run(
        [sys.executable, "-m", "localcloud", "serve", "--port", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=False,
    )
    assert proc.returncode != 0
    assert "LOCALCLOUD_INSTANCES=containers needs the Docker engine" in proc.stderr
