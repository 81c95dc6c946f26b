"""The twin's docker helpers that need no Docker: waiting for a container to answer."""
from __future__ import annotations

import subprocess
import urllib.error
from typing import Any

import pytest

from localcloud.twin import docker


def test_wait_until_answers_returns_once_the_probe_gets_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker.time, "sleep", lambda _: None)
    calls: list[int] = []

    def probe() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise urllib.error.URLError("connection refused")

    docker.wait_until_answers("localcloud-registry-1", "the registry", probe, timeout=30)
    assert len(calls) == 3


def test_wait_until_answers_names_the_container_its_error_and_its_log(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker.time, "sleep", lambda _: None)
    asked: list[list[str]] = []

    def logs(args: list[str], **_: Any) -> subprocess.CompletedProcess[bytes]:
        asked.append(list(args))
        return subprocess.CompletedProcess(args, 0, b"", b"x" * 2000 + b"listen: address in use")

    monkeypatch.setattr(docker, "run", logs)

    def probe() -> None:
        raise ConnectionRefusedError("refused")

    with pytest.raises(docker.DockerError) as failed:
        docker.wait_until_answers("localcloud-shop-1", "the demo shop", probe, timeout=0)
    message = str(failed.value)
    assert message.startswith("the demo shop localcloud-shop-1 did not answer within 0 s (refused): ")
    assert message.endswith("listen: address in use")
    assert len(message.split("): ", 1)[1]) == 1500
    assert asked == [["logs", "--tail", "20", "localcloud-shop-1"]]


def test_wait_until_answers_lets_other_errors_through(monkeypatch: pytest.MonkeyPatch) -> None:
    def probe() -> None:
        raise ValueError("a bug in the probe")

    with pytest.raises(ValueError, match="a bug in the probe"):
        docker.wait_until_answers("c", "the registry", probe, timeout=30)
