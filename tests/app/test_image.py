"""The taskapp-backend image: size, non-root, health check, start time, settings refusal, graceful stop."""
from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request

import pytest

from tests.conftest import ROOT, free_port

pytestmark = [pytest.mark.docker, pytest.mark.slow]
IMAGE = "taskapp-backend:latest"
ENV = {
    "AUTOBUY_DB_PASSWORD": "Q7w9e8r7t6y5u4i3o2p1", "AUTOBUY_JWT_SIGNING_KEY": "Zk39fj2lX0qpW8e7r6t5y4u3i2o1pA9s",
    "AUTOBUY_GOOGLE_CLIENT_ID": "client.apps.googleusercontent.com",
    "AUTOBUY_STRIPE_SECRET_KEY": "sk_test_Q7w9e8r7t6y5u4i3o2p1",
    "AUTOBUY_STRIPE_WEBHOOK_SECRET": "whsec_Q7w9e8r7t6y5u4i3o2p1",
}


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout)


@pytest.fixture(scope="module")
def image() -> str:
    subprocess.run([str(ROOT / "scripts/system-deps.sh"), "docker"], check=True)
    subprocess.run([str(ROOT / "scripts/base-image.sh"), "bookworm"], check=True, capture_output=True)
    subprocess.run([str(ROOT / "app/build-image.sh"), IMAGE], check=True, capture_output=True, timeout=1200)
    return IMAGE


def _env_args(env: dict[str, str], tmp_path) -> list[str]:
    env_file = tmp_path / "env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    env_file.chmod(0o600)
    return ["--env-file", str(env_file)]


def test_image_is_small_non_root_with_healthcheck(image):
    info = json.loads(docker("image", "inspect", image).stdout)[0]
    assert info["Size"] <= 150_000_000, f"image is {info['Size'] / 1e6:.0f} MB"
    config = info["Config"]
    assert config["User"] not in ("", "0", "root", "0:0")
    assert "/health" in " ".join(config["Healthcheck"]["Test"])
    assert config["Cmd"][0] == "gunicorn" and "5000/tcp" in config["ExposedPorts"]
    tools = docker("run", "--rm", "--entrypoint", "sh", image, "-c",
                   "command -v gcc cc pip apt-get perl || true").stdout
    assert tools.strip() == ""


def test_container_answers_health_fast_and_stops_gracefully(image, tmp_path):
    port = free_port()
    started = time.monotonic()
    cid = docker("run", "-d", "--name", f"autobuy-test-health-{os.getpid()}", "-p", f"127.0.0.1:{port}:5000",
                 *_env_args(ENV, tmp_path), image).stdout.strip()
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as resp:
                    body = json.loads(resp.read())
                    break
            except OSError:
                assert time.monotonic() - started < 15, docker("logs", cid, check=False).stderr[-2000:]
                time.sleep(0.05)
        elapsed = time.monotonic() - started
        assert body["status"] == "ok" and elapsed < 15
        print(f"container start to first 200 on /health: {elapsed:.2f} s")
        for _ in range(60):
            state = json.loads(docker("inspect", cid).stdout)[0]["State"]
            if state.get("Health", {}).get("Status") == "healthy":
                break
            time.sleep(0.5)
        assert state["Health"]["Status"] == "healthy"
        logs = docker("logs", cid).stdout
        assert any(json.loads(line).get("type") == "access" for line in logs.splitlines()
                   if line.startswith("{"))
        stop_started = time.monotonic()
        docker("stop", "-t", "30", cid)
        # in-flight requests may take up to graceful_timeout (25 s); an idle container is quicker
        assert time.monotonic() - stop_started < 25
        assert json.loads(docker("inspect", cid).stdout)[0]["State"]["ExitCode"] == 0
    finally:
        docker("rm", "-f", cid, check=False)


def test_container_refuses_placeholder_secrets(image, tmp_path):
    secret = "changeme-but-long-enough-123"
    env = {**ENV, "AUTOBUY_JWT_SIGNING_KEY": secret}
    name = f"autobuy-test-refuse-{os.getpid()}"
    try:
        proc = docker("run", "--rm", "--name", name, *_env_args(env, tmp_path), image, check=False,
                      timeout=60)
    finally:
        docker("rm", "-f", name, check=False)  # never leave a container behind, even on a timeout
    assert proc.returncode != 0
    assert "AUTOBUY_JWT_SIGNING_KEY" in proc.stderr + proc.stdout
    assert secret not in proc.stderr + proc.stdout
