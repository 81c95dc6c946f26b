"""Auto Scaling groups behind the twin's load balancer (``LOCALCLOUD_TWIN=on`` with
``LOCALCLOUD_INSTANCES=containers``): a group's instances are the target group's targets, and
with ``HealthCheckType=ELB`` an instance the balancer finds unhealthy after the grace period
is replaced; with ``EC2`` it is not. The grace period is scaled but never shorter than the
real boot (localcloud/ext/fidelity/autoscaling_elb_health.py).

Each instance's user data serves ``/health`` (or not) with ``python3 -m http.server`` of the
AMI image. Needs Docker and the images, built here when missing; under CI=true nothing skips.
"""
from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from localcloud.ext.fidelity.autoscaling_elb_health import (
    BOOT_FINISHED,
    BOOT_LIMIT,
    BOOT_MARGIN,
    CONTAINER_TAG,
    grace_over,
)
from localcloud.twin import IMAGES as TWIN_IMAGES
from localcloud_helpers import free_port, start_server, stop_server, until
from test_localcloud_boot import _debian12

REGION = "eu-central-1"
GRACE = 10  # seconds, scaled to 0.1 s by the cloud's time scale: the real boot must count
SERVES = ("#!/bin/sh\nmkdir -p /srv/www && echo ok > /srv/www/health\n"
          "systemd-run --unit=health-server python3 -m http.server 5000 --directory /srv/www\n")
FAILS = "#!/bin/sh\necho 'this instance serves nothing'\n"


def test_grace_period_counts_from_the_end_of_the_boot() -> None:
    # scaled to nearly nothing, the grace still starts when the boot has finished ...
    assert not grace_over(300, first_seen=0, boot_done=None, now=120, scale=0.001)
    assert not grace_over(300, first_seen=0, boot_done=100, now=100 + BOOT_MARGIN - 1,
                          scale=0.001)
    assert grace_over(300, first_seen=0, boot_done=100, now=100 + BOOT_MARGIN, scale=0.001)
    # ... a shorter grace than the margin is the user's own and holds after the boot ...
    assert not grace_over(5, first_seen=0, boot_done=100, now=104, scale=0.001)
    assert grace_over(5, first_seen=0, boot_done=100, now=105, scale=0.001)
    # ... unscaled, the scaled period applies from the end of the boot ...
    assert not grace_over(300, first_seen=0, boot_done=100, now=399, scale=1)
    assert grace_over(300, first_seen=0, boot_done=100, now=400, scale=1)
    # ... and a boot that never finishes is judged after the unscaled period, but never
    # while a slow boot may still finish (a short grace would replace every boot: a loop).
    assert not grace_over(10, first_seen=0, boot_done=None, now=BOOT_LIMIT - 1, scale=1)
    assert grace_over(10, first_seen=0, boot_done=None, now=BOOT_LIMIT, scale=0.001)
    assert not grace_over(900, first_seen=0, boot_done=None, now=899, scale=0.001)
    assert grace_over(900, first_seen=0, boot_done=None, now=900, scale=0.001)



class Cloud:
    def __init__(self, url: str) -> None:
        self.url = url
        self.ec2, self.asg, self.elb = (boto3.client(s, endpoint_url=url, region_name=REGION)
                                        for s in ("ec2", "autoscaling", "elbv2"))


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory, localcloud: str,
          docker_images: Callable[..., None], ami_image: str) -> Iterator[Cloud]:
    docker_images(TWIN_IMAGES)
    state = tmp_path_factory.mktemp("elb_health_state")
    url, proc = start_server(state / "localcloud.log", {
        "LOCALCLOUD_TWIN": "on", "LOCALCLOUD_INSTANCES": "containers",
        "LOCALCLOUD_STATE_DIR": str(state), "LOCALCLOUD_TIME_SCALE": "0.01",
        "LOCALCLOUD_ALB_HTTP_PORT": str(free_port()),
        "LOCALCLOUD_ALB_HTTPS_PORT": str(free_port()),
        "LOCALCLOUD_ALB_PROVISION_SECONDS": "0.5"})
    try:
        yield Cloud(url)
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def network(cloud: Cloud) -> dict[str, Any]:
    """A VPC and an ALB whose HTTP listener forwards to the target groups made per test."""
    vpc = cloud.ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnets = [cloud.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.7.{i}.0/24",
                                       AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
               for i, az in enumerate("ab")]
    alb = cloud.elb.create_load_balancer(Name="elb-health", Subnets=subnets,
                                         Type="application")["LoadBalancers"][0]
    until(lambda: cloud.elb.describe_load_balancers(LoadBalancerArns=[alb["LoadBalancerArn"]])
           ["LoadBalancers"][0]["State"]["Code"] == "active", 30, "the ALB to be active")
    return {"vpc": vpc, "alb": alb["LoadBalancerArn"], "listener": None, "priority": 1}


def _group(cloud: Cloud, network: dict[str, Any], name: str, check_type: str,
           *user_data: str) -> str:
    """A target group served by the ALB (path /<name>/*) and a group of one instance in it
    launching the first user data; the others are later template versions."""
    tg = cloud.elb.create_target_group(
        Name=name, Protocol="HTTP", Port=5000, VpcId=network["vpc"], TargetType="instance",
        HealthCheckPath="/health", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
        HealthyThresholdCount=2, UnhealthyThresholdCount=2,
        Matcher={"HttpCode": "200"})["TargetGroups"][0]["TargetGroupArn"]
    forward = [{"Type": "forward", "TargetGroupArn": tg}]
    if network["listener"] is None:
        network["listener"] = cloud.elb.create_listener(
            LoadBalancerArn=network["alb"], Protocol="HTTP", Port=80,
            DefaultActions=forward)["Listeners"][0]["ListenerArn"]
    else:
        network["priority"] += 1
        cloud.elb.create_rule(ListenerArn=network["listener"], Priority=network["priority"],
                              Conditions=[{"Field": "path-pattern", "Values": [f"/{name}/*"]}],
                              Actions=forward)
    image = _debian12(cloud.ec2)
    template = cloud.ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={
        "ImageId": image, "UserData": base64.b64encode(user_data[0].encode()).decode()},
    )["LaunchTemplate"]["LaunchTemplateId"]
    for later in user_data[1:]:
        cloud.ec2.create_launch_template_version(LaunchTemplateId=template, LaunchTemplateData={
            "ImageId": image, "UserData": base64.b64encode(later.encode()).decode()})
    cloud.asg.create_auto_scaling_group(
        AutoScalingGroupName=name, MinSize=1, MaxSize=1, DesiredCapacity=1,
        AvailabilityZones=[f"{REGION}a"], TargetGroupARNs=[tg],
        HealthCheckType=check_type, HealthCheckGracePeriod=GRACE,
        LaunchTemplate={"LaunchTemplateId": template, "Version": "1"})
    return tg


def _members(cloud: Cloud, name: str) -> list[dict[str, Any]]:
    return cloud.asg.describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"][0]["Instances"]


def _health(cloud: Cloud, tg: str) -> dict[str, dict[str, Any]]:
    return {d["Target"]["Id"]: d["TargetHealth"] for d in
            cloud.elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]}


def _state(cloud: Cloud, tg: str, instance_id: str) -> str:
    return _health(cloud, tg).get(instance_id, {}).get("State", "")


def _boot_finished(cloud: Cloud, instance_id: str) -> bool:
    tags = cloud.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0][
        "Instances"][0].get("Tags", [])
    name = {t["Key"]: t["Value"] for t in tags}[CONTAINER_TAG]
    return subprocess.run(["docker", "exec", name, "test", "-e",
                           BOOT_FINISHED.format(instance_id=instance_id)],
                          capture_output=True, check=False, timeout=30).returncode == 0


def _hold(cloud: Cloud, name: str, instance_id: str, seconds: float) -> None:
    """The group keeps ``instance_id`` (Healthy, alone) for ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert [(m["InstanceId"], m["HealthStatus"]) for m in _members(cloud, name)] == [
            (instance_id, "Healthy")]
        time.sleep(2)


# past the end of a boot, the margin and several health checks of the twin's 3 s cycle
SETTLE = GRACE + 20


@pytest.mark.slow
@pytest.mark.docker
def test_healthy_instance_of_an_elb_group_is_never_replaced(cloud, network) -> None:
    started = time.monotonic()
    tg = _group(cloud, network, "serves", "ELB", SERVES)
    [member] = _members(cloud, "serves")
    instance_id = member["InstanceId"]
    assert instance_id in _health(cloud, tg)  # a target at once

    until(lambda: _state(cloud, tg, instance_id) == "healthy", 240, "a healthy target")
    print(f"\nCreateAutoScalingGroup (RunInstances) -> healthy target: "
          f"{time.monotonic() - started:.1f} s")
    _hold(cloud, "serves", instance_id, SETTLE)
    assert _state(cloud, tg, instance_id) == "healthy"


@pytest.mark.slow
@pytest.mark.docker
def test_unhealthy_instance_of_an_elb_group_is_replaced_after_the_boot(cloud, network) -> None:
    tg = _group(cloud, network, "fails", "ELB", FAILS, SERVES)
    [member] = _members(cloud, "fails")
    first = member["InstanceId"]
    # later launches (the replacement) serve; the failing instance keeps its version 1
    cloud.asg.update_auto_scaling_group(AutoScalingGroupName="fails", LaunchTemplate={
        "LaunchTemplateName": "fails", "Version": "2"})

    until(lambda: _state(cloud, tg, first) == "unhealthy", 240, "the target unhealthy")
    # unhealthy while it boots, but judged only once its real boot has finished
    until(lambda: _boot_finished(cloud, first), 240, "the failing instance's boot")
    assert [(m["InstanceId"], m["HealthStatus"]) for m in _members(cloud, "fails")] == [
        (first, "Healthy")]
    replaced = until(lambda: [m["InstanceId"] for m in _members(cloud, "fails")
                               if m["InstanceId"] != first], 240, "a replacement")
    [second] = replaced
    assert [m["InstanceId"] for m in _members(cloud, "fails")] == [second]
    until(lambda: cloud.ec2.describe_instances(InstanceIds=[first])["Reservations"][0][
        "Instances"][0]["State"]["Name"] in ("shutting-down", "terminated"), 30,
        "the unhealthy instance terminated")
    assert first not in _health(cloud, tg) or _state(cloud, tg, first) == "draining"

    until(lambda: _state(cloud, tg, second) == "healthy", 240, "the replacement healthy")
    _hold(cloud, "fails", second, SETTLE)


@pytest.mark.slow
@pytest.mark.docker
def test_ec2_health_check_type_ignores_an_unhealthy_target(cloud, network) -> None:
    tg = _group(cloud, network, "ec2type", "EC2", FAILS)
    [member] = _members(cloud, "ec2type")
    instance_id = member["InstanceId"]

    until(lambda: _state(cloud, tg, instance_id) == "unhealthy", 240, "the target unhealthy")
    _hold(cloud, "ec2type", instance_id, SETTLE)
    assert _state(cloud, tg, instance_id) == "unhealthy"
