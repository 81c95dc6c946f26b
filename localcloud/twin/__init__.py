"""The twin: what the local cloud provisions also runs (issue 10), with ``LOCALCLOUD_TWIN=on``.

* :mod:`localcloud.twin.ca` — the private CA of the state directory;
* :mod:`localcloud.twin.registry` — the registry container behind ECR;
* :mod:`localcloud.twin.database` — a MariaDB container per RDS DB instance;
* :mod:`localcloud.twin.balancer` — HAProxy serving the application load balancer;
* :mod:`localcloud.twin.edge` — the CloudFront edge serving the distribution (HTTPS on
  ``127.0.0.1:LOCALCLOUD_WEB_HTTPS_PORT``);
* :mod:`localcloud.twin.instance_services` — what the instance role and the VPC give an
  instance: the AWS endpoint under AWS's host names, the instance metadata service;
* :mod:`localcloud.twin.stripe_host` — the Stripe stand-in under a name of the twin network;
* :mod:`localcloud.twin.docker` — labelled containers and networks, removed at exit.

One :class:`Twin` per serving process (:func:`current`), started by the server after
the patches are applied; the patches ``ecr_registry`` and ``rds_database`` drive it from
the AWS calls. ``GET /localcloud/twin`` answers :meth:`Twin.report`. At exit (also on
``make localcloud-stop``) every container, network and volume it made is removed.
"""
from __future__ import annotations

import atexit
import os
import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localcloud import settings
from localcloud.twin import balancer, database, docker, registry, stripe_host
from localcloud.twin.ca import CertificateAuthority
from localcloud.twin.database import Databases
from localcloud.twin.demoshop import DemoShop
from localcloud.twin.edge import Edge, EdgeStartError
from localcloud.twin.instance_services import InstanceServices
from localcloud.twin.registry import Registry, host_names
from localcloud.twin.stripe_host import StripeHost

#: How often lifecycle policies are applied to the registry (AWS: within a day).
LIFECYCLE_SECONDS = 3.0

#: The images a twin runs, by their ``images/`` recipe: when it starts (the registry; the
#: Stripe host and the demo shop, both on testapp) and for what it serves (RDS: mariadb,
#: ALB: alb). A twin without one of them fails to start, or fails the resource that needs
#: it, with a message naming it; ``make twin-images`` builds them all.
IMAGES = {"registry": registry.IMAGE, "testapp": stripe_host.IMAGE, "mariadb": database.IMAGE,
          "alb": balancer.IMAGE}


class Twin:
    def __init__(self, state_dir: Path) -> None:
        self.owner = docker.owner()
        self.network = docker.network_name(self.owner)
        self.workdir = state_dir.resolve() / "twin" / self.owner
        self.ca = CertificateAuthority.open(state_dir)
        self.registry: Registry | None = None
        self.databases = Databases(self.owner, self.network,
                                   state_dir.resolve() / "twin" / "snapshots", ca=self.ca)
        self.balancer: Any = None  # localcloud.twin.balancer.Balancer, set by its patch
        self.instance_services: InstanceServices | None = None
        self.demo_shop: DemoShop | None = None
        self.stripe_host: StripeHost | None = None
        self.edge: Edge | None = None
        self._jobs: list[Callable[[], None]] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, account: str, regions: list[str], api_port: int | None = None) -> None:
        """``api_port``: the local cloud's own port on 127.0.0.1, which instances reach
        through :class:`InstanceServices` (None: no services for instances)."""
        atexit.register(self.stop)
        docker.run(["network", "create", *docker.labels("network", self.owner), self.network])
        if api_port is not None:
            self.instance_services = InstanceServices(self.ca, self.network, self.workdir,
                                                      api_port)
            self.instance_services.start()
            self.stripe_host = StripeHost(self.owner, self.network, self.instance_services.address)
            self.stripe_host.start()
        self.registry = Registry(self.ca, self.workdir / "registry", self.owner, self.network,
                                 host_names(account, regions))
        self.registry.start()
        if settings.demo_shop():
            self.demo_shop = DemoShop(self.owner, self.network)
            self.demo_shop.start()
        self.edge = Edge(self.ca, self.workdir / "edge", lambda: self.balancer)
        self.edge.start()
        self.every_cycle(self.edge.refresh)
        self._thread = threading.Thread(target=self._periodic, name="localcloud-twin",
                                        daemon=True)
        self._thread.start()
        print(f"localcloud: twin: CA {self.ca.cert_path}; network {self.network}; "
              f"ECR registry {self.registry.address} "
              f"({self.registry.names[0]} and the other regions' hosts)"
              + (f"; demo shop {self.demo_shop.address}" if self.demo_shop else "")
              + f"; web edge https://localhost:{self.edge.port}/", flush=True)

    def every_cycle(self, job: Callable[[], None]) -> None:
        """Run ``job`` every :data:`LIFECYCLE_SECONDS` in the twin's thread."""
        self._jobs.append(job)

    def _periodic(self) -> None:
        while not self._stopping.wait(LIFECYCLE_SECONDS):
            for job in list(self._jobs):
                try:
                    job()
                except Exception as exc:  # a job must not stop the others
                    print(f"localcloud: twin: {exc}", file=sys.stderr, flush=True)

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.registry is not None:
            self.registry.stop()
        if self.instance_services is not None:
            self.instance_services.stop()
        if self.edge is not None:
            self.edge.stop()
        docker.remove_owned(self.owner)
        shutil.rmtree(self.workdir, ignore_errors=True)  # the registry's key and htpasswd

    def report(self) -> dict[str, Any]:
        registry = self.registry
        return {
            "enabled": True,
            "ca_cert": str(self.ca.cert_path),
            "network": self.network,
            "registry": registry.address if registry else "",
            "registry_container": registry.container if registry else "",
            "registry_hosts": registry.names if registry else [],
            "databases": self.databases.report(),
            "snapshots": dict(self.databases.snapshots),
            "load_balancer": self.balancer.report() if self.balancer is not None else {},
            "instance_endpoint": (f"{self.instance_services.address}:443"
                                  if self.instance_services else ""),
            "demo_shop": self.demo_shop.report() if self.demo_shop is not None else {},
            "stripe": self.stripe_host.report() if self.stripe_host is not None else {},
            "web_edge": self.edge.report() if self.edge is not None else {},
        }


_current: Twin | None = None
_on_start: list[Callable[[Twin], None]] = []


def on_start(hook: Callable[[Twin], None]) -> None:
    """Run ``hook(twin)`` once the twin has started (patches register their jobs here)."""
    _on_start.append(hook)


def current() -> Twin | None:
    """The running twin of this process (None when ``LOCALCLOUD_TWIN`` is off)."""
    return _current


def start(api_port: int | None = None) -> Twin | None:
    """Start the twin when ``LOCALCLOUD_TWIN=on`` (once per process); ``api_port`` is the
    port the local cloud serves on (for its instances, see :meth:`Twin.start`)."""
    global _current
    if _current is not None or not settings.twin():
        return _current
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID

    twin = Twin(Path(settings.state_dir()))
    first = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    regions = sorted(boto3.session.Session().get_available_regions("ecr"),
                     key=lambda region: (region != first, region))
    try:
        twin.start(DEFAULT_ACCOUNT_ID, regions, api_port)
    except EdgeStartError as exc:
        twin.stop()
        raise SystemExit(f"localcloud: {exc}") from exc
    except docker.DockerError as exc:
        twin.stop()
        raise docker.DockerError(
            f"localcloud: LOCALCLOUD_TWIN=on but the twin cannot start: {exc} (Docker: "
            "scripts/system-deps.sh docker; images: make images)") from exc
    _current = twin
    for hook in _on_start:
        hook(twin)
    return twin


def report() -> dict[str, Any]:
    twin = _current
    return twin.report() if twin is not None else {"enabled": False}
