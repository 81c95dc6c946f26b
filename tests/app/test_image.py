"""The taskapp-backend image: size, non-root, health check, start time, settings refusal, graceful stop."""
from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from datetime import datetime, timedelta, timezone

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


def _docker_time(stamp: str) -> datetime:
    """Docker's RFC 3339 time with nanoseconds ("2026-12-01T04:38:06.123456789Z")."""
    head, _, fraction = stamp.strip().rstrip("Z").partition(".")
    micro = int((fraction + "000000")[:6])
    return datetime.fromisoformat(head).replace(tzinfo=timezone.utc) + timedelta(microseconds=micro)


def _first_health_answer(cid: str) -> datetime | None:
    """When the container logged its first /health access line, by Docker's clock."""
    for line in docker("logs", "--timestamps", cid).stdout.splitlines():
        stamp, _, text = line.partition(" ")
        if text.startswith("{"):
            entry = json.loads(text)
            if entry.get("type") == "access" and entry.get("path") == "/health":
                return _docker_time(stamp)
    return None


def test_container_answers_health_fast_and_stops_gracefully(image, tmp_path):
    port = free_port()
    cid = docker("run", "-d", "--name", f"autobuy-test-health-{os.getpid()}", "-p", f"127.0.0.1:{port}:5000",
                 *_env_args(ENV, tmp_path), image).stdout.strip()
    try:
        deadline = time.monotonic() + 60  # only a time-out: the figure comes from Docker
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as resp:
                    body = json.loads(resp.read())
                    break
            except OSError:
                assert time.monotonic() < deadline, docker("logs", cid, check=False).stderr[-2000:]
                time.sleep(0.05)
        # container start to first answered /health, both by the Docker daemon's clock (the
        # start the daemon recorded, the access line's log time): the docker CLI's own
        # start-up and the machine's other load do not count
        state = json.loads(docker("inspect", cid).stdout)[0]["State"]
        answered = _first_health_answer(cid)
        assert answered is not None
        elapsed = (answered - _docker_time(state["StartedAt"])).total_seconds()
        assert body["status"] == "ok" and elapsed < 15
        print(f"container start to first 200 on /health: {elapsed:.2f} s")
        deadline = time.monotonic() + 60
        while state.get("Health", {}).get("Status") != "healthy" and time.monotonic() < deadline:
            time.sleep(0.5)
            state = json.loads(docker("inspect", cid).stdout)[0]["State"]
        assert state["Health"]["Status"] == "healthy"
        logs = docker("logs", cid).stdout
        assert any(json.loads(line).get("type") == "access" for line in logs.splitlines()
                   if line.startswith("{"))
        docker("stop", "-t", "30", cid)
        # in-flight requests may take up to graceful_timeout (25 s); an idle container is
        # quicker. Docker's own times: stop requested (the "kill" event) to exit.
        stopped = json.loads(docker("inspect", cid).stdout)[0]["State"]
        assert stopped["ExitCode"] == 0
        events = docker("events", "--since", state["StartedAt"], "--until", stopped["FinishedAt"],
                        "--filter", f"container={cid}", "--filter", "event=kill",
                        "--format", "{{.TimeNano}}").stdout.split()
        assert events, "docker recorded no stop signal"
        finished = _docker_time(stopped["FinishedAt"]).timestamp()
        assert finished - int(events[0]) / 1e9 < 25
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
