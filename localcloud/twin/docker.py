"""Docker for the twin: every container and network it makes is labelled with its owner.

The owner is the serving process's pid (the same value and label key as the
container-backed instances of ``localcloud/ext/fidelity/ec2_containers.py``), so one
label filter finds everything a server made, and :func:`remove_owned` removes it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

LABEL = "org.autobuy.localcloud"
#: What a twin container stands for (``registry``, ``database``).
ROLE_LABEL = "org.autobuy.localcloud.twin"


class DockerError(RuntimeError):
    """A docker command failed; the message has its stderr (never its stdin)."""


def owner() -> str:
    return str(os.getpid())


def network_name(owner_id: str | None = None) -> str:
    """The twin's Docker network: RDS and ECR answer there under their AWS host names;
    instances join it."""
    return f"localcloud-{owner_id or owner()}"


def run(args: Sequence[str], *, stdin: bytes | None = None, timeout: float = 120,
        check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """``docker ARGS``; raises :class:`DockerError` (unless ``check`` is false) on failure."""
    try:
        result = subprocess.run(["docker", *args], input=stdin, capture_output=True,
                                timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise DockerError("docker is not installed (scripts/system-deps.sh docker)") from exc
    except subprocess.TimeoutExpired as exc:
        raise DockerError(f"docker {' '.join(args[:2])} took more than {timeout:g} s") from exc
    if check and result.returncode != 0:
        raise DockerError(f"docker {' '.join(args[:2])} failed: "
                          f"{result.stderr.decode(errors='replace').strip()}")
    return result


def labels(role: str, owner_id: str) -> list[str]:
    return ["--label", f"{LABEL}={owner_id}", "--label", f"{ROLE_LABEL}={role}"]


def image_exists(image: str) -> bool:
    return run(["image", "inspect", image], check=False).returncode == 0


class Service:
    """One kind of container the twin runs for a local cloud server (balancer, databases,
    registry, demo shop): whose it is (``owner``), the network it joins, the image it runs
    and the role its containers are labelled with."""

    def __init__(self, role: str, owner: str, network: str, image: str) -> None:
        self.role = role
        self.owner = owner
        self.network = network
        self.image = image

    def labels(self) -> list[str]:
        return labels(self.role, self.owner)

    def require_image(self, needed_by: str, otherwise: str = "") -> None:
        """Refuse to start without the image, saying which make target builds it."""
        if not image_exists(self.image):
            raise DockerError(f"{needed_by} needs the image {self.image}: run `make images`{otherwise}")


def host_port(container: str, port: int) -> int:
    """The loopback port Docker published for the container's ``port``."""
    out = run(["port", container, f"{port}/tcp"]).stdout.decode().split()
    for line in out:
        host, _, published = line.rpartition(":")
        if host in ("127.0.0.1", "0.0.0.0") and published.isdigit():
            return int(published)
    raise DockerError(f"{container} publishes no port for {port}/tcp")


def wait_until_answers(container: str, what: str, probe: Callable[[], object],
                       timeout: float) -> None:
    """Call ``probe`` every 0.2 s until it returns without an ``OSError`` (``URLError`` is
    one); after ``timeout`` s raise :class:`DockerError` naming ``what`` and the container,
    with the last error and the end of the container's log."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            probe()
            return
        except OSError as exc:
            if time.monotonic() > deadline:
                logs = run(["logs", "--tail", "20", container], check=False)
                raise DockerError(
                    f"{what} {container} did not answer within {timeout:g} s "
                    f"({exc}): {logs.stderr.decode(errors='replace')[-1500:]}") from exc
            time.sleep(0.2)


def remove_owned(owner_id: str) -> None:
    """Remove every container (with its anonymous volumes) and network labelled ``owner_id``."""
    found = run(["ps", "-aq", "--filter", f"label={LABEL}={owner_id}"], check=False)
    ids = found.stdout.decode().split()
    if ids:
        removed = run(["rm", "-f", "-v", *ids], check=False, timeout=60)
        if removed.returncode != 0:
            print(f"localcloud: twin: removing containers failed: "
                  f"{removed.stderr.decode(errors='replace').strip()}", file=sys.stderr, flush=True)
    nets = run(["network", "ls", "-q", "--filter", f"label={LABEL}={owner_id}"], check=False)
    for net in nets.stdout.decode().split():
        if run(["network", "rm", net], check=False).returncode == 0:
            continue
        # Still attached: an instance container the EC2 side removes at the same moment
        # (a network with an endpoint cannot be removed). Detach them, then remove it.
        attached = run(["network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", net],
                       check=False).stdout.decode().split()
        for container in attached:
            run(["network", "disconnect", "-f", net, container], check=False)
        gone = run(["network", "rm", net], check=False)
        if gone.returncode != 0:
            print(f"localcloud: twin: removing network {net} failed: "
                  f"{gone.stderr.decode(errors='replace').strip()}", file=sys.stderr, flush=True)
    vols = run(["volume", "ls", "-q", "--filter", f"label={LABEL}={owner_id}"], check=False)
    if vols.stdout.split():
        run(["volume", "rm", "-f", *vols.stdout.decode().split()], check=False)
