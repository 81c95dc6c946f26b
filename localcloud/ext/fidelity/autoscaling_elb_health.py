"""Auto Scaling groups and their target groups on the twin (``LOCALCLOUD_TWIN=on``, issue 10 §4).

Registration: moto registers a group's instances with its target groups
(``TargetGroupARNs``) as they join, but never deregisters one that leaves. Here an instance
that leaves the group (terminated, replaced, scaled in, detached) is deregistered from the
target groups the group registered it with, so the twin's balancer drains it for the target
group's ``deregistration_delay.timeout_seconds`` (scaled), as on AWS.

Network: an instance with a container (``LOCALCLOUD_INSTANCES=containers``) joins the twin's
network, so the balancer reaches it at its container address.

``HealthCheckType=ELB``: every twin cycle, an ``InService``, ``Healthy`` container instance
of such a group that the balancer reports ``unhealthy`` in one of the group's target groups
is marked ``Unhealthy``, terminated and replaced (unless ``ReplaceUnhealthy`` is suspended),
once its grace period is over. The grace period is scaled by ``LOCALCLOUD_TIME_SCALE`` but
never shorter than the real boot (simulated waits are scaled; real work is not):

* it starts when the instance's boot has finished (cloud-init's
  ``/var/lib/cloud/instances/<instance-id>/boot-finished`` exists in its container), and lasts the scaled
  ``HealthCheckGracePeriod``, but at least ``min(HealthCheckGracePeriod, BOOT_MARGIN)`` real
  seconds, for what the user data started in the background (containers, the app) to come up;
* a boot that never finishes is judged after the unscaled ``HealthCheckGracePeriod``, but
  at least ``BOOT_LIMIT`` real seconds, from when the instance was first seen (never
  shorter than on AWS, and never shorter than a slow but healthy boot on a loaded machine).

With ``HealthCheckType=EC2`` target health is ignored, as on AWS. Instances that are records
(no container) are never judged by their target health: nothing serves there.
"""
from __future__ import annotations

import functools
import sys
import time
from typing import Any

from moto.autoscaling.models import AutoScalingBackend, autoscaling_backends

from localcloud import settings, twin
from localcloud.twin import docker

CONTAINER_TAG = "localcloud:container"
#: cloud-init's mark of a finished boot, per instance id: an instance of an AMI made from
#: another instance (a golden AMI) carries that one's boot-finished under its own id.
BOOT_FINISHED = "/var/lib/cloud/instances/{instance_id}/boot-finished"
#: Real seconds an instance's background work (docker run of the app, its start) gets after
#: cloud-init finished before its target health counts, when the grace period is that long.
BOOT_MARGIN = 60.0
#: Real seconds after which an instance whose boot has not finished is judged anyway (a
#: boot here takes ~10-60 s; one still running after this is stuck).
BOOT_LIMIT = 600.0

_registered: dict[tuple[str, str], set[str]] = {}  # (group name, target group) -> instance ids
_first_seen: dict[str, float] = {}  # instance id -> monotonic time the check first saw it
_boot_done: dict[str, float] = {}  # instance id -> monotonic time its boot was seen finished
_joined: set[str] = set()  # containers connected to the twin network


def update_attached_target_groups(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: AutoScalingBackend, group_name: str) -> None:
        group = self.autoscaling_groups[group_name]
        current = {state.instance.id for state in group.instance_states}
        for arn in list(group.target_group_arns or []):
            gone = _registered.get((group_name, arn), set()) - current
            target_group = self.elbv2_backend.target_groups.get(arn)
            if target_group is not None:
                leaving = [{"Id": i} for i in sorted(gone) if i in target_group.targets]
                if leaving:
                    self.elbv2_backend.deregister_targets(arn, leaving)
            _registered[(group_name, arn)] = current
        original(self, group_name)
    wrapper._localcloud = True  # type: ignore[attr-defined]
    return wrapper


def grace_over(grace: float, first_seen: float, boot_done: float | None, now: float,
               scale: float) -> bool:
    """Whether an instance's health check grace period is over (the rule in the docstring)."""
    if boot_done is not None:
        return now >= boot_done + max(grace * scale, min(grace, BOOT_MARGIN))
    return now >= first_seen + max(grace, BOOT_LIMIT)


def _container(instance: Any) -> str | None:
    for tag in instance.get_tags():
        if tag.get("key") == CONTAINER_TAG:
            return str(tag["value"])
    return None


def _running(name: str) -> bool:
    result = docker.run(["inspect", "-f", "{{.State.Running}}", name], check=False)
    return result.returncode == 0 and result.stdout.strip() == b"true"


def _join(name: str, network: str) -> None:
    if name in _joined or not _running(name):
        return
    result = docker.run(["network", "connect", network, name], check=False)
    error = result.stderr.decode(errors="replace")
    if result.returncode == 0 or "already exists" in error:
        _joined.add(name)
    else:
        print(f"localcloud: twin: {name} cannot join {network}: {error.strip()}",
              file=sys.stderr, flush=True)


def _booted(instance_id: str, name: str, now: float) -> float | None:
    if instance_id not in _boot_done:
        finished = BOOT_FINISHED.format(instance_id=instance_id)
        found = docker.run(["exec", name, "test", "-e", finished], check=False, timeout=30)
        if found.returncode == 0:
            _boot_done[instance_id] = now
    return _boot_done.get(instance_id)


def _unhealthy(backend: AutoScalingBackend, group: Any, instance: Any) -> str | None:
    """The first of the group's target groups that reports the instance unhealthy."""
    for arn in group.target_group_arns or []:
        target_group = backend.elbv2_backend.target_groups.get(arn)
        target = target_group.targets.get(instance.id) if target_group is not None else None
        if target is None:
            continue
        health = target_group.health_for(target, backend.ec2_backend)
        if health.status == "unhealthy":
            return f"{target_group.name} ({health.reason})"
    return None


def _replace(backend: AutoScalingBackend, group: Any, instance_id: str, why: str) -> None:
    from localcloud.instance_refresh import LOCK

    with LOCK:
        if group.name not in backend.autoscaling_groups or not any(
                s.instance.id == instance_id and s.health_status == "Healthy"
                for s in group.instance_states):
            return
        print(f"localcloud: {instance_id} of {group.name} failed the ELB health check of "
              f"target group {why}: Unhealthy", file=sys.stderr, flush=True)
        backend.set_instance_health(instance_id, "Unhealthy")
        if "ReplaceUnhealthy" in getattr(group, "_suspended_processes", ()):
            return
        backend.terminate_instance(instance_id, should_decrement=False)


def check(network: str) -> None:
    """One pass over every group: join the network, replace ELB-unhealthy instances."""
    now, scale = time.monotonic(), settings.time_scale()
    for _account, regions in list(autoscaling_backends.items()):
        for _region, backend in list(regions.items()):
            for group in list(backend.autoscaling_groups.values()):
                elb = (group.health_check_type or "").upper() == "ELB"
                for state in list(group.instance_states):
                    instance = state.instance
                    name = _container(instance)
                    if name is None or instance.state != "running":
                        continue
                    _join(name, network)
                    if not elb or state.lifecycle_state != "InService" \
                            or state.health_status != "Healthy":
                        continue
                    first = _first_seen.setdefault(instance.id, now)
                    grace = float(group.health_check_grace_period or 0)
                    if not grace_over(grace, first, _booted(instance.id, name, now), now, scale):
                        continue
                    why = _unhealthy(backend, group, instance)
                    if why is not None:
                        _replace(backend, group, instance.id, why)


def _on_start(running: Any) -> None:
    running.every_cycle(lambda: check(running.network))


def apply() -> None:
    if not settings.twin() or getattr(AutoScalingBackend.update_attached_target_groups,
                                      "_localcloud", False):
        return
    AutoScalingBackend.update_attached_target_groups = (  # type: ignore[method-assign]
        update_attached_target_groups(AutoScalingBackend.update_attached_target_groups))
    twin.on_start(_on_start)
