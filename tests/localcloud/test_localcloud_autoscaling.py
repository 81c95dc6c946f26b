"""Auto Scaling gap fills: metrics collection enable/disable like AWS."""
from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def group(localcloud: str) -> str:
    name = f"metrics-{uuid.uuid4().hex[:8]}"
    boto3.client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName=name, MinSize=0, MaxSize=1, DesiredCapacity=0,
        AvailabilityZones=["eu-central-1a"], LaunchConfigurationName=_launch_config())
    return name


def _launch_config() -> str:
    name = f"lc-{uuid.uuid4().hex[:8]}"
    boto3.client("autoscaling").create_launch_configuration(
        LaunchConfigurationName=name, ImageId="ami-12c6146b", InstanceType="t2.micro")
    return name


def _enabled(name: str) -> set[str]:
    group = boto3.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    return {m["Metric"] for m in group.get("EnabledMetrics", [])}


def test_enable_adds_and_disable_removes_metrics(group: str) -> None:
    asg = boto3.client("autoscaling")
    asg.enable_metrics_collection(AutoScalingGroupName=group, Granularity="1Minute",
                                  Metrics=["GroupMinSize"])
    asg.enable_metrics_collection(AutoScalingGroupName=group, Granularity="1Minute",
                                  Metrics=["GroupMaxSize"])
    assert _enabled(group) == {"GroupMinSize", "GroupMaxSize"}
    asg.disable_metrics_collection(AutoScalingGroupName=group, Metrics=["GroupMinSize"])
    assert _enabled(group) == {"GroupMaxSize"}


def test_without_metrics_enable_means_all_and_disable_means_none(group: str) -> None:
    asg = boto3.client("autoscaling")
    asg.enable_metrics_collection(AutoScalingGroupName=group, Granularity="1Minute")
    assert {"GroupInServiceInstances", "GroupTotalCapacity"} <= _enabled(group)
    asg.disable_metrics_collection(AutoScalingGroupName=group)
    assert _enabled(group) == set()


def test_unknown_metric_is_refused(group: str) -> None:
    with pytest.raises(ClientError) as err:
        boto3.client("autoscaling").disable_metrics_collection(
            AutoScalingGroupName=group, Metrics=["CPUUtilization"])
    assert err.value.response["Error"]["Code"] == "ValidationError"


def test_group_tags_are_sorted_by_key(localcloud: str) -> None:
    asg = boto3.client("autoscaling")
    name = f"tags-{uuid.uuid4().hex[:8]}"
    asg.create_auto_scaling_group(
        AutoScalingGroupName=name, MinSize=0, MaxSize=1, DesiredCapacity=0,
        AvailabilityZones=["eu-central-1a"], LaunchConfigurationName=_launch_config(),
        Tags=[{"Key": k, "Value": "v", "PropagateAtLaunch": True}
              for k in ("Project", "ManagedBy", "Name")])
    asg.create_or_update_tags(Tags=[{"ResourceId": name, "ResourceType": "auto-scaling-group",
                                     "Key": "Cost", "Value": "x", "PropagateAtLaunch": False}])
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    assert [t["Key"] for t in group["Tags"]] == ["Cost", "ManagedBy", "Name", "Project"]
