"""EC2: container-backed instances (only when ``LOCALCLOUD_INSTANCE_IMAGE`` is set).

Each EC2 instance the local cloud runs gets a systemd container
``localcloud-<instance-id>`` from that docker image, and the instance carries the tag
``localcloud:container`` = that name, so Ansible can reach the "instance" with the
``community.docker.docker`` connection. Stop/start/terminate stop, start and remove
the container. Docker is driven by one worker thread, so API calls do not wait for
it; the server removes its containers when it exits.

The container runs with the capability set that works on these machines (no
``--privileged``): SYS_ADMIN and NET_ADMIN, seccomp/apparmor unconfined, the host
cgroup namespace, tmpfs on /run and /run/lock, /sys/fs/cgroup mounted rw, and
``/lib/systemd/systemd`` as its command.
"""
from __future__ import annotations

import atexit
import functools
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from moto.ec2.models.instances import Instance, InstanceBackend

from localcloud import settings

TAG = "localcloud:container"
LABEL = "org.autobuy.localcloud"
SYSTEMD_OPTIONS = (
    "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--cgroupns=host", "--tmpfs", "/run", "--tmpfs", "/run/lock",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
)


def container_name(instance_id: str) -> str:
    return f"localcloud-{instance_id}"


def run_command(image: str, instance: Instance, owner: str) -> list[str]:
    """``docker run`` arguments for an instance's container."""
    hostname = (getattr(instance, "private_dns", "") or instance.id).split(".")[0]
    return [
        "docker", "run", "-d", "--name", container_name(instance.id),
        "--hostname", hostname, "--label", f"{LABEL}={owner}",
        "--label", f"{LABEL}.instance={instance.id}",
        *SYSTEMD_OPTIONS, image, "/lib/systemd/systemd",
    ]


class Docker:
    """Serialises docker commands in one background thread."""

    def __init__(self, image: str) -> None:
        self.image = image
        self.owner = str(os.getpid())
        self._queue: queue.Queue[list[str] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="localcloud-docker", daemon=True)
        self._thread.start()

    def submit(self, command: list[str]) -> None:
        self._queue.put(command)

    def _work(self) -> None:
        while True:
            command = self._queue.get()
            if command is None:
                return
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                print(f"localcloud: {' '.join(command[:3])} failed: {result.stderr.strip()}",
                      file=sys.stderr, flush=True)

    def cleanup(self) -> None:
        """Remove every container this server started (at exit)."""
        self._queue.put(None)
        self._thread.join(timeout=30)
        found = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label={LABEL}={self.owner}"],
            capture_output=True, text=True, check=False)
        ids = found.stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, check=False)


def apply() -> None:
    image = settings.instance_image()
    if not image or getattr(InstanceBackend.run_instances, "_localcloud", False):
        return
    docker = Docker(image)
    atexit.register(docker.cleanup)
    run_instances = InstanceBackend.run_instances

    @functools.wraps(run_instances)
    def run_with_containers(self: InstanceBackend, *args: Any, **kwargs: Any):
        reservation = run_instances(self, *args, **kwargs)
        for instance in reservation.instances:
            self.create_tags([instance.id], {TAG: container_name(instance.id)})
            docker.submit(run_command(docker.image, instance, docker.owner))
        return reservation

    run_with_containers._localcloud = True  # type: ignore[attr-defined]
    InstanceBackend.run_instances = run_with_containers  # type: ignore[method-assign]
    _follow(Instance, "stop", lambda i: ["docker", "stop", container_name(i.id)], docker)
    _follow(Instance, "start", lambda i: ["docker", "start", container_name(i.id)], docker)
    _follow(Instance, "terminate", lambda i: ["docker", "rm", "-f", container_name(i.id)],
            docker)


def _follow(cls: type, method: str, command: Callable[[Instance], list[str]],
            docker: Docker) -> None:
    """After ``cls.method`` ran, run ``command`` for instances that have a container."""
    original = getattr(cls, method)

    @functools.wraps(original)
    def wrapper(self: Instance, *args: Any, **kwargs: Any) -> Any:
        had_container = any(t.get("key") == TAG for t in self.get_tags())
        result = original(self, *args, **kwargs)
        if had_container:
            docker.submit(command(self))
        return result

    setattr(cls, method, wrapper)
