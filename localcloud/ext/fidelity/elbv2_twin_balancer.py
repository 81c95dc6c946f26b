"""ELBv2: the application load balancer serves traffic (``LOCALCLOUD_TWIN=on``).

moto keeps load balancers, listeners and target groups as records, and reports every
registered target ``healthy``. With the twin on, HAProxy serves them
(:mod:`localcloud.twin.balancer`):

* after every ELBv2 call that changes what is served (listeners, rules, target groups,
  targets, attributes) the configuration is regenerated and, when it changed, reloaded;
  the twin's cycle does the same every few seconds (ACM certificates being issued,
  draining targets leaving);
* ``DeregisterTargets``: the target drains for the group's
  ``deregistration_delay.timeout_seconds`` (scaled by ``LOCALCLOUD_TIME_SCALE``, but at
  least ``DRAIN_MARGIN`` real seconds when the delay is that long: see
  :func:`localcloud.twin.balancer.drain_seconds`);
* ``DescribeTargetHealth``: what HAProxy's health checks see (``initial``, ``healthy``,
  ``unhealthy`` with the reason, ``draining``, ``unavailable`` when checks are off),
  draining targets included as on AWS.

A target is addressed by its IP (target type ``ip``) or, for an instance, by its
container's address on the twin network (instances with the ``localcloud:container``
tag) or else the private IP moto gave it.
"""
from __future__ import annotations

import functools
import sys
from datetime import datetime
from typing import Any

from moto.acm.models import acm_backends
from moto.ec2.models import ec2_backends
from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup, elbv2_backends

from localcloud import settings, twin
from localcloud.twin import balancer as lb
from localcloud.twin import docker

CONTAINER_TAG = "localcloud:container"
_CHANGES = (
    "create_load_balancer", "delete_load_balancer", "create_listener", "modify_listener",
    "delete_listener", "create_rule", "modify_rule", "delete_rule", "set_rule_priorities",
    "create_target_group", "modify_target_group", "delete_target_group",
    "modify_target_group_attributes", "modify_load_balancer_attributes", "register_targets",
    "add_listener_certificates", "remove_listener_certificates",
)
_addresses: dict[str, str] = {}  # container name -> IP on the twin network


def _balancer() -> lb.Balancer | None:
    running = twin.current()
    return getattr(running, "balancer", None) if running is not None else None


def _created(load_balancer: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(load_balancer.created_time).replace("Z", "+00:00"))
    except ValueError:
        return datetime.max


def _container_address(name: str, network: str) -> str:
    if name not in _addresses:
        result = docker.run(["inspect", "-f",
                             f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}',
                             name], check=False)
        address = result.stdout.decode().strip() if result.returncode == 0 else ""
        if not address or address == "<no value>":
            return ""
        _addresses[name] = address
    return _addresses[name]


def _address(account: str, region: str, target_id: str, network: str) -> str:
    if not target_id.startswith("i-"):
        return target_id
    try:
        instance = ec2_backends[account][region].get_instance_by_id(target_id)
    except Exception:  # noqa: BLE001 - an unknown instance has no address
        return ""
    if instance is None:
        return ""
    for tag in instance.get_tags():
        if tag.get("key") == CONTAINER_TAG:
            return _container_address(tag["value"], network)
    return instance.private_ip_address or ""


def elb_state(network: str) -> lb.ElbState:
    """The ELBv2 (and ACM) state of every account and region of the local cloud."""
    load_balancers, listeners, groups = [], {}, {}
    certificates: dict[str, tuple[bytes, bytes]] = {}
    addresses: dict[str, str] = {}
    for account, regions in list(elbv2_backends.items()):
        for region, backend in list(regions.items()):
            for balancer in list(backend.load_balancers.values()):
                if balancer.state != "active":
                    continue  # AWS serves once the load balancer is active
                load_balancers.append(balancer)
                listeners[balancer.arn] = list(balancer.listeners.values())
            for group in list(backend.target_groups.values()):
                groups[group.arn] = group
                for target in list(group.targets.values()):
                    addresses[target["Id"]] = _address(account, region, target["Id"], network)
    for _account, regions in list(acm_backends.items()):
        for _region, backend in list(regions.items()):
            for arn, bundle in list(backend._certificates.items()):  # noqa: SLF001
                if bundle.status == "ISSUED":
                    certificates[arn] = (bundle.cert, bundle.key)
    load_balancers.sort(key=_created)
    return lb.ElbState(load_balancers, listeners, groups, certificates, addresses)


def sync() -> None:
    balancer, running = _balancer(), twin.current()
    if balancer is None or running is None:
        return
    try:
        balancer.sync(elb_state(running.network))
    except (lb.BalancerError, docker.DockerError, OSError) as exc:
        print(f"localcloud: twin: load balancer: {exc}", file=sys.stderr, flush=True)


def _then_sync(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(self: ELBv2Backend, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        sync()
        return result
    wrapper._localcloud = True  # type: ignore[attr-defined]
    return wrapper


def _unhealthy_after(group: FakeTargetGroup) -> float:
    """How long a new target may fail its checks before it is ``unhealthy``."""
    return int(group.unhealthy_threshold_count) * lb.scaled(
        float(group.health_check_interval_seconds), lb.MIN_INTERVAL)


def _checks(group: FakeTargetGroup) -> bool:
    return str(group.health_check_enabled).lower() != "false"


def _server(target_id: str, port: Any) -> str:
    return lb.Target("", target_id, int(port), "").server


def deregister_targets(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: ELBv2Backend, target_group_arn: str, instances: list[dict[str, Any]]):
        group = self.target_groups.get(target_group_arn)
        ports = {t["Id"]: t["Port"] for t in group.targets.values()} if group else {}
        result = original(self, target_group_arn, instances)
        balancer = _balancer()
        if balancer is not None and group is not None:
            delay = float(group.attributes.get("deregistration_delay.timeout_seconds", 300))
            for target in instances:
                port = target.get("Port") or ports.get(target["Id"]) or group.port
                balancer.drain(lb.backend_name(group), _server(target["Id"], port),
                               lb.drain_seconds(delay))
        sync()
        return result
    wrapper._localcloud = True  # type: ignore[attr-defined]
    return wrapper


def health_for(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: FakeTargetGroup, target: dict[str, Any], ec2_backend: Any):
        balancer = _balancer()
        registered = self.targets.get(target["Id"])
        port = target.get("Port") or (registered or {}).get("Port") or self.port
        key = (lb.backend_name(self), _server(target["Id"], port))
        if balancer is None or (registered is None and key not in balancer.draining()):
            return original(self, target, ec2_backend)
        health = balancer.health(key[0], key[1], _unhealthy_after(self), _checks(self))
        return FakeHealthStatus(target["Id"], port, self.health_check_port, health.state,
                                health.reason, health.description)
    return wrapper


def describe_target_health(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: ELBv2Backend, target_group_arn: str, targets: list[dict[str, Any]]):
        balancer = _balancer()
        group = self.target_groups.get(target_group_arn)
        if not targets and balancer is not None and group is not None:
            targets = list(group.targets.values()) + [
                {"Id": t.target_id, "Port": t.port} for t in balancer.draining_targets(group.arn)
                if t.target_id not in group.targets]
        return original(self, target_group_arn, targets)
    return wrapper


def _on_start(running: Any) -> None:
    running.balancer = lb.Balancer(running.workdir / "alb", running.owner, running.network)
    running.every_cycle(sync)


def apply() -> None:
    if not settings.twin() or getattr(ELBv2Backend.register_targets, "_localcloud", False):
        return
    for name in _CHANGES:
        setattr(ELBv2Backend, name, _then_sync(getattr(ELBv2Backend, name)))
    ELBv2Backend.deregister_targets = deregister_targets(  # type: ignore[method-assign]
        ELBv2Backend.deregister_targets)
    ELBv2Backend.describe_target_health = describe_target_health(  # type: ignore[method-assign]
        ELBv2Backend.describe_target_health)
    FakeTargetGroup.health_for = health_for(  # type: ignore[method-assign]
        FakeTargetGroup.health_for)
    twin.on_start(_on_start)
