"""Auto Scaling: StartInstanceRefresh, DescribeInstanceRefreshes, CancelInstanceRefresh,
RollbackInstanceRefresh (moto answers them with NotImplementedError).

The API methods live on moto's ``AutoScalingResponse`` (named after the actions);
the state machine is ``localcloud.instance_refresh``. Instances also remember the
launch template version they were launched with, so ``SkipMatching`` and
``DescribeAutoScalingInstances`` see per-instance versions, as on AWS.
"""
from __future__ import annotations

import functools
from typing import Any

from moto.autoscaling.models import FakeAutoScalingGroup, InstanceState
from moto.autoscaling.responses import AutoScalingResponse
from moto.autoscaling.exceptions import ValidationError
from moto.core.responses import ActionResult

from localcloud import patching
from localcloud.instance_refresh import (
    LT_ATTR,
    REGISTRY,
    ActiveInstanceRefreshNotFound,
    resolve,
)


def _group(response: AutoScalingResponse) -> FakeAutoScalingGroup:
    name = response._get_param("AutoScalingGroupName")
    if not name:
        raise ValidationError("AutoScalingGroupName is required")
    group = response.autoscaling_backend.autoscaling_groups.get(name)
    if group is None:
        raise ValidationError(f"AutoScalingGroup name not found - {name}")
    return group


def start_instance_refresh(self: AutoScalingResponse) -> ActionResult:
    group = _group(self)
    refresh = REGISTRY.start(
        self.autoscaling_backend, group,
        strategy=self._get_param("Strategy") or "Rolling",
        raw_prefs=self._get_param("Preferences"),
        desired=self._get_param("DesiredConfiguration"),
    )
    return ActionResult({"InstanceRefreshId": refresh.id})


def describe_instance_refreshes(self: AutoScalingResponse) -> ActionResult:
    group = _group(self)
    wanted = set(self._get_param("InstanceRefreshIds") or [])
    refreshes = [r for r in REGISTRY.of(group) if not wanted or r.id in wanted]
    max_records = int(self._get_param("MaxRecords") or 50)
    start = int(self._get_param("NextToken") or 0)
    page = refreshes[start:start + max_records]
    result: dict[str, Any] = {"InstanceRefreshes": [r.describe() for r in page]}
    if start + max_records < len(refreshes):
        result["NextToken"] = str(start + max_records)
    return ActionResult(result)


def _active(group: FakeAutoScalingGroup):
    refresh = REGISTRY.active(group)
    if refresh is None:
        raise ActiveInstanceRefreshNotFound(
            f"No in progress or pending Instance Refresh found for Auto Scaling group "
            f"{group.name}")
    return refresh


def cancel_instance_refresh(self: AutoScalingResponse) -> ActionResult:
    refresh = _active(_group(self))
    refresh.cancel()
    return ActionResult({"InstanceRefreshId": refresh.id})


def rollback_instance_refresh(self: AutoScalingResponse) -> ActionResult:
    refresh = _active(_group(self))
    refresh.request_rollback()
    return ActionResult({"InstanceRefreshId": refresh.id})


def _remember_launch_template(original):
    @functools.wraps(original)
    def replace(self: FakeAutoScalingGroup, count_needed: int, propagated_tags: dict) -> None:
        before = {id(s) for s in self.instance_states}
        original(self, count_needed, propagated_tags)
        spec = resolve(self, None)
        if spec is None:
            return
        for state in self.instance_states:
            if id(state) not in before:
                setattr(state, LT_ATTR, spec.key)

    replace._localcloud = True  # type: ignore[attr-defined]
    return replace


def _instance_launch_template(original: property) -> property:
    def launch_template(self: InstanceState) -> dict[str, Any] | None:
        recorded = getattr(self, LT_ATTR, None)
        group = self.auto_scaling_group
        if recorded is None or group is None:
            return original.fget(self)  # type: ignore[misc]
        template = group.ec2_backend.get_launch_template(recorded[0])
        return {"LaunchTemplateId": template.id, "LaunchTemplateName": template.name,
                "Version": str(recorded[1])}

    return property(launch_template)


def apply() -> None:
    patching.answer(AutoScalingResponse, start_instance_refresh, describe_instance_refreshes,
                    cancel_instance_refresh, rollback_instance_refresh)
    if getattr(FakeAutoScalingGroup.replace_autoscaling_group_instances, "_localcloud", False):
        return
    FakeAutoScalingGroup.replace_autoscaling_group_instances = _remember_launch_template(
        FakeAutoScalingGroup.replace_autoscaling_group_instances)
    InstanceState.launch_template = _instance_launch_template(  # type: ignore[assignment]
        InstanceState.__dict__["launch_template"])
