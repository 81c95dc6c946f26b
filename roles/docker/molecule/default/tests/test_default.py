"""Checks of roles/docker on a converged instance (run by molecule's testinfra verifier)."""

from __future__ import annotations

import json
import time

import pytest

testinfra_hosts = ["ansible://instances"]


def test_docker_service_enabled_and_running(host) -> None:
    service = host.service("docker")
    assert service.is_enabled
    assert service.is_running


def test_daemon_json_applied(host) -> None:
    config = host.file("/etc/docker/daemon.json")
    assert config.user == "root"
    assert config.mode == 0o644
    wanted = json.loads(config.content_string)
    assert wanted["live-restore"] is True
    assert wanted["log-driver"] == "json-file"
    assert wanted["log-opts"] == {"max-size": "10m", "max-file": "3"}
    assert wanted["storage-driver"] == "overlay2"
    # What the running daemon reports, not only what the file says.
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert info["Driver"] == "overlay2"
    assert info["LiveRestoreEnabled"] is True
    assert info["LoggingDriver"] == "json-file"


def test_admin_in_docker_group(host) -> None:
    assert "docker" in host.user("admin").groups
    # The membership works: admin talks to the daemon without sudo.
    assert host.run("sudo -u admin docker version --format '{{.Server.Version}}'").rc == 0


def test_python_deps_for_community_docker(host) -> None:
    assert host.run("python3 -c 'import requests'").rc == 0


@pytest.fixture
def testapp(host):
    name = "verify-testapp"
    host.run(f"docker rm -f {name}")
    host.check_output(
        f"docker run -d --name {name} --read-only -p 127.0.0.1:8080:5000 autobuy/testapp:latest"
    )
    yield name
    host.run(f"docker rm -f {name}")


def test_locally_built_image_runs(host, testapp) -> None:
    body = ""
    for _ in range(40):
        result = host.run("python3 -c \"import urllib.request as u; "
                          "print(u.urlopen('http://127.0.0.1:8080/health', timeout=2).read().decode())\"")
        if result.rc == 0:
            body = result.stdout
            break
        time.sleep(0.5)
    assert json.loads(body)["status"] == "ok"
    user = host.check_output(f"docker exec {testapp} id -u")
    assert user == "10001"
    # Log rotation from daemon.json applies to new containers.
    log_config = json.loads(host.check_output(f"docker inspect -f '{{{{json .HostConfig.LogConfig}}}}' {testapp}"))
    assert log_config == {"Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"}}
