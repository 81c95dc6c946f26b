"""Auto Scaling: DisableMetricsCollection, and EnableMetricsCollection as AWS does it.

moto has no DisableMetricsCollection (HTTP 500), which ``amazon.aws.autoscaling_group``
calls whenever it updates a group with ``metrics_collection: false`` (the default);
and moto's EnableMetricsCollection without ``Metrics`` enables none, where AWS enables
all of them and adds to the metrics already enabled.
"""
from __future__ import annotations

from moto.autoscaling.exceptions import ValidationError
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult, EmptyResult

from localcloud import patching

ALL_METRICS = (
    "GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances",
    "GroupPendingInstances", "GroupStandbyInstances", "GroupTerminatingInstances",
    "GroupTotalInstances", "GroupInServiceCapacity", "GroupPendingCapacity",
    "GroupStandbyCapacity", "GroupTerminatingCapacity", "GroupTotalCapacity",
    "WarmPoolDesiredCapacity", "WarmPoolWarmedCapacity", "WarmPoolPendingCapacity",
    "WarmPoolTerminatingCapacity", "WarmPoolTotalCapacity",
    "GroupAndWarmPoolDesiredCapacity", "GroupAndWarmPoolTotalCapacity",
)


def _group_and_metrics(response: AutoScalingResponse):
    name = response._get_param("AutoScalingGroupName")
    group = response.autoscaling_backend.autoscaling_groups.get(name)
    if group is None:
        raise ValidationError(f"Group {name} not found")
    metrics = list(response._get_param("Metrics") or [])
    unknown = sorted(set(metrics) - set(ALL_METRICS))
    if unknown:
        raise ValidationError(f"Unknown metrics: {', '.join(unknown)}")
    return group, metrics


def enable_metrics_collection(self: AutoScalingResponse) -> ActionResult:
    group, metrics = _group_and_metrics(self)
    group.metrics = [m for m in ALL_METRICS if m in set(group.metrics) | set(metrics or ALL_METRICS)]
    return EmptyResult()


def disable_metrics_collection(self: AutoScalingResponse) -> ActionResult:
    group, metrics = _group_and_metrics(self)
    group.metrics = [m for m in group.metrics if metrics and m not in metrics]
    return EmptyResult()


def apply() -> None:
    patching.answer(AutoScalingResponse, enable_metrics_collection, disable_metrics_collection)
