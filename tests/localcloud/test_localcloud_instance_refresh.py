"""Instance refresh: the state machine that replaces an Auto Scaling group's instances.

The session's local cloud runs with LOCALCLOUD_TIME_SCALE=0.01 (the default), so
an InstanceWarmup of 20 s lasts 0.2 s here.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import boto3
import pytest
from botocore.exceptions import ClientError

SCALE = 0.01
TERMINAL = {"Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"}


class Group:
    """A fresh group on launch template version 1 (t2.micro), version 2 = t3.micro."""

    def __init__(self, capacity: int = 3, tags: dict[str, str] | None = None) -> None:
        self.ec2, self.asg = boto3.client("ec2"), boto3.client("autoscaling")
        suffix = uuid.uuid4().hex[:8]
        vpc = self.ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        subnets = [self.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24",
                                          AvailabilityZone=f"eu-central-1{az}")["Subnet"]["SubnetId"]
                   for i, az in ((1, "a"), (2, "b"), (3, "c"))]
        image = self.ec2.describe_images(Owners=["136693071363"], Filters=[
            {"Name": "name", "Values": ["debian-12-amd64-*"]}])["Images"][0]["ImageId"]
        self.lt = self.ec2.create_launch_template(
            LaunchTemplateName=f"lt-{suffix}",
            LaunchTemplateData={"ImageId": image, "InstanceType": "t2.micro"},
        )["LaunchTemplate"]["LaunchTemplateId"]
        self.ec2.create_launch_template_version(
            LaunchTemplateId=self.lt, LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"})
        self.name = f"asg-{suffix}"
        self.asg.create_auto_scaling_group(
            AutoScalingGroupName=self.name, MinSize=0, MaxSize=capacity * 2,
            DesiredCapacity=capacity, VPCZoneIdentifier=",".join(subnets),
            LaunchTemplate={"LaunchTemplateId": self.lt, "Version": "1"},
            Tags=[{"Key": k, "Value": v, "PropagateAtLaunch": False}
                  for k, v in (tags or {}).items()],
        )

    def describe(self) -> dict:
        return self.asg.describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.name])["AutoScalingGroups"][0]

    def instances(self) -> dict[str, str]:
        """Instance id -> launch template version."""
        return {i["InstanceId"]: i["LaunchTemplate"]["Version"] for i in self.describe()["Instances"]}

    def start(self, version: str | None = "2", **prefs) -> str:
        kwargs: dict = {"AutoScalingGroupName": self.name, "Preferences": prefs}
        if version:
            kwargs["DesiredConfiguration"] = {
                "LaunchTemplate": {"LaunchTemplateId": self.lt, "Version": version}}
        return self.asg.start_instance_refresh(**kwargs)["InstanceRefreshId"]

    def refresh(self, refresh_id: str) -> dict:
        return self.asg.describe_instance_refreshes(
            AutoScalingGroupName=self.name, InstanceRefreshIds=[refresh_id])["InstanceRefreshes"][0]

    def wait(self, refresh_id: str, timeout: float = 20,
             each: Callable[[dict], None] | None = None) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            refresh = self.refresh(refresh_id)
            if each:
                each(refresh)
            if refresh["Status"] in TERMINAL:
                return refresh
            time.sleep(0.02)
        raise AssertionError(f"refresh still {refresh['Status']} after {timeout} s")

    def wait_for(self, refresh_id: str, status: str, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            refresh = self.refresh(refresh_id)
            if refresh["Status"] == status:
                return refresh
            time.sleep(0.02)
        raise AssertionError(f"refresh never reached {status}")


def test_replaces_every_instance_of_a_three_instance_group(localcloud: str) -> None:
    group = Group(3)
    before = group.instances()
    refresh_id = group.start("2", MinHealthyPercentage=50, InstanceWarmup=20)

    done = group.wait(refresh_id)

    after = group.instances()
    assert done["Status"] == "Successful", done
    assert (done["PercentageComplete"], done["InstancesToUpdate"]) == (100, 0)
    assert done["EndTime"] >= done["StartTime"]
    assert len(after) == 3 and not set(after) & set(before)
    assert set(after.values()) == {"2"}
    assert group.describe()["LaunchTemplate"]["Version"] == "2"
    types = {i["InstanceType"] for r in group.ec2.describe_instances(InstanceIds=list(after))[
        "Reservations"] for i in r["Instances"]}
    assert types == {"t3.micro"}
    old_states = {i["State"]["Name"] for r in group.ec2.describe_instances(
        InstanceIds=list(before))["Reservations"] for i in r["Instances"]}
    assert old_states == {"terminated"}
    assert done["Preferences"]["MinHealthyPercentage"] == 50
    assert done["Preferences"]["InstanceWarmup"] == 20


@pytest.mark.parametrize(("prefs", "allowed_old", "allowed_total"), [
    ({"MinHealthyPercentage": 50}, {4, 2, 0}, {2, 4}),          # 2 at a time, terminate first
    ({"MinHealthyPercentage": 75}, {4, 3, 2, 1, 0}, {3, 4}),    # 1 at a time
    ({"MinHealthyPercentage": 100, "MaxHealthyPercentage": 200}, {4, 0}, {4, 8}),  # launch first
])
def test_batches_follow_the_healthy_percentages(
    localcloud: str, prefs: dict, allowed_old: set, allowed_total: set
) -> None:
    group = Group(4)
    before = set(group.instances())
    seen_old: set[int] = set()
    seen_total: set[int] = set()

    def observe(_: dict) -> None:
        current = group.instances()
        seen_old.add(len(before & set(current)))
        seen_total.add(len(current))

    done = group.wait(group.start("2", InstanceWarmup=25, **prefs), each=observe)

    assert done["Status"] == "Successful"
    assert seen_old <= allowed_old, seen_old
    assert seen_total <= allowed_total, seen_total
    assert min(seen_total) >= 4 * prefs["MinHealthyPercentage"] // 100
    if prefs.get("MaxHealthyPercentage", 100) > 100:
        assert max(seen_total) > 4  # new instances came up before old ones went


def test_skip_matching_with_nothing_to_replace_succeeds_at_once(localcloud: str) -> None:
    group = Group(3)
    before = group.instances()
    done = group.wait(group.start("1", SkipMatching=True, InstanceWarmup=300))
    assert done["Status"] == "Successful"
    assert (done["PercentageComplete"], done["InstancesToUpdate"]) == (100, 0)
    assert group.instances() == before


def test_skip_matching_replaces_only_instances_on_other_versions(localcloud: str) -> None:
    group = Group(4)
    # A refresh that stops at its last checkpoint (50 %) leaves two on each version.
    first = group.wait(group.start("2", MinHealthyPercentage=50, InstanceWarmup=10,
                                   CheckpointPercentages=[50], CheckpointDelay=0))
    assert first["PercentageComplete"] == 50
    mixed = group.instances()
    on_v2 = {i for i, v in mixed.items() if v == "2"}
    assert len(on_v2) == 2

    done = group.wait(group.start("2", SkipMatching=True, MinHealthyPercentage=50,
                                  InstanceWarmup=10))

    after = group.instances()
    assert done["Status"] == "Successful"
    assert on_v2 <= set(after)             # matching instances kept
    assert set(after.values()) == {"2"}
    assert len(set(after) - set(mixed)) == 2


def test_cancel_stops_the_refresh(localcloud: str) -> None:
    group = Group(3)
    refresh_id = group.start("2", MinHealthyPercentage=50, InstanceWarmup=1000)
    group.wait_for(refresh_id, "InProgress")

    cancelled = group.asg.cancel_instance_refresh(AutoScalingGroupName=group.name)
    done = group.wait(refresh_id)

    assert cancelled["InstanceRefreshId"] == refresh_id
    assert done["Status"] == "Cancelled"
    assert group.describe()["LaunchTemplate"]["Version"] == "1"
    with pytest.raises(ClientError) as err:
        group.asg.cancel_instance_refresh(AutoScalingGroupName=group.name)
    assert err.value.response["Error"]["Code"] == "ActiveInstanceRefreshNotFound"


def test_only_one_active_refresh_per_group(localcloud: str) -> None:
    group = Group(1)
    refresh_id = group.start("2", InstanceWarmup=1000)
    with pytest.raises(ClientError) as err:
        group.start("2")
    assert err.value.response["Error"]["Code"] == "InstanceRefreshInProgress"
    group.asg.cancel_instance_refresh(AutoScalingGroupName=group.name)
    assert group.wait(refresh_id)["Status"] == "Cancelled"


def test_injected_fault_fails_and_auto_rollback_restores_the_old_version(localcloud: str) -> None:
    group = Group(3, tags={"localcloud:fail-refresh-after": "1"})
    statuses: list[str] = []

    done = group.wait(
        group.start("2", MinHealthyPercentage=50, InstanceWarmup=20, AutoRollback=True),
        each=lambda r: statuses.append(r["Status"]))

    assert done["Status"] == "RollbackSuccessful", done
    assert "RollbackInProgress" in statuses
    assert "did not become healthy" in done["RollbackDetails"]["RollbackReason"]
    assert done["RollbackDetails"]["PercentageCompleteOnRollback"] == 33
    after = group.instances()
    assert len(after) == 3 and set(after.values()) == {"1"}
    assert group.describe()["LaunchTemplate"]["Version"] == "1"


def test_injected_fault_without_rollback_fails_with_a_reason(localcloud: str) -> None:
    group = Group(2, tags={"localcloud:fail-refresh-after": "0"})
    done = group.wait(group.start("2", MinHealthyPercentage=50, InstanceWarmup=10))
    assert done["Status"] == "Failed"
    assert "did not become healthy" in done["StatusReason"]
    assert group.describe()["LaunchTemplate"]["Version"] == "1"


def test_manual_rollback(localcloud: str) -> None:
    group = Group(3)
    refresh_id = group.start("2", MinHealthyPercentage=50, InstanceWarmup=100)
    deadline = time.monotonic() + 10
    while group.refresh(refresh_id)["PercentageComplete"] < 33:
        assert time.monotonic() < deadline
        time.sleep(0.02)

    group.asg.rollback_instance_refresh(AutoScalingGroupName=group.name)
    done = group.wait(refresh_id)

    assert done["Status"] == "RollbackSuccessful"
    assert set(group.instances().values()) == {"1"}


def test_checkpoint_pauses_for_the_checkpoint_delay(localcloud: str) -> None:
    group = Group(2)
    reasons: list[tuple[int, str]] = []
    started = time.monotonic()
    done = group.wait(
        group.start("2", MinHealthyPercentage=50, InstanceWarmup=5,
                    CheckpointPercentages=[50, 100], CheckpointDelay=60),
        each=lambda r: reasons.append((r["PercentageComplete"], r.get("StatusReason", ""))))

    assert done["Status"] == "Successful"
    assert time.monotonic() - started >= 60 * SCALE
    # the server's own times: the pause is inside the refresh, whatever the client's load
    assert done["StartTime"].microsecond or done["EndTime"].microsecond  # not whole seconds
    assert (done["EndTime"] - done["StartTime"]).total_seconds() >= 60 * SCALE
    assert any(pct == 50 and "checkpoint" in reason for pct, reason in reasons)


def test_alarm_in_alarm_state_fails_the_refresh(localcloud: str) -> None:
    group = Group(2)
    cloudwatch = boto3.client("cloudwatch")
    alarm = f"alarm-{uuid.uuid4().hex[:8]}"
    cloudwatch.put_metric_alarm(
        AlarmName=alarm, MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average",
        Period=60, EvaluationPeriods=1, Threshold=70, ComparisonOperator="GreaterThanThreshold")
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test")

    done = group.wait(group.start("2", MinHealthyPercentage=50, InstanceWarmup=10,
                                  AlarmSpecification={"Alarms": [alarm]}))

    assert done["Status"] == "Failed"
    assert alarm in done["StatusReason"]
    assert done["Preferences"]["AlarmSpecification"] == {"Alarms": [alarm]}


@pytest.mark.parametrize("prefs", [
    {"MinHealthyPercentage": 101},
    {"MinHealthyPercentage": 100},
    {"MaxHealthyPercentage": 250},
    {"CheckpointPercentages": [60, 30]},
])
def test_invalid_preferences_are_refused(localcloud: str, prefs: dict) -> None:
    group = Group(1)
    with pytest.raises(ClientError) as err:
        group.start("2", **prefs)
    assert err.value.response["Error"]["Code"] == "ValidationError"


def test_unknown_group_is_refused(localcloud: str) -> None:
    with pytest.raises(ClientError) as err:
        boto3.client("autoscaling").start_instance_refresh(AutoScalingGroupName="no-such-group")
    assert "not found" in err.value.response["Error"]["Message"]


def test_deleting_the_group_cancels_its_refresh(localcloud: str) -> None:
    group = Group(2)
    refresh_id = group.start("2", MinHealthyPercentage=50, InstanceWarmup=100)
    group.wait_for(refresh_id, "InProgress")
    refresh = group.refresh(refresh_id)

    # a twin group, refreshed the same way from now on: when it is done, the deleted
    # group's refresh would have run its batches too (a signal instead of a sleep)
    twin = Group(2)
    twin_refresh = twin.start("2", MinHealthyPercentage=50, InstanceWarmup=100)
    group.asg.delete_auto_scaling_group(AutoScalingGroupName=group.name, ForceDelete=True)
    assert twin.wait(twin_refresh)["Status"] == "Successful"

    running = group.ec2.describe_instances(Filters=[
        {"Name": "tag:aws:autoscaling:groupName", "Values": [group.name]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])["Reservations"]
    assert refresh["Status"] == "InProgress"
    assert running == []


@pytest.mark.parametrize(("preference", "kept"), [("Ignore", True), ("Refresh", False)])
def test_scale_in_protected_instances_preference(localcloud: str, preference: str,
                                                 kept: bool) -> None:
    group = Group(2)
    protected = next(iter(group.instances()))
    group.asg.set_instance_protection(AutoScalingGroupName=group.name, InstanceIds=[protected],
                                      ProtectedFromScaleIn=True)

    done = group.wait(group.start("2", MinHealthyPercentage=50, InstanceWarmup=5,
                                  ScaleInProtectedInstances=preference))

    assert done["Status"] == "Successful"
    assert done["Preferences"]["ScaleInProtectedInstances"] == preference
    assert (protected in group.instances()) is kept
    assert len(group.instances()) == 2
