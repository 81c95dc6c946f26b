"""Container-backed instances: LOCALCLOUD_INSTANCE_IMAGE gives each instance a systemd container.

Needs the Docker engine and the systemd instance image ``autobuy/instance:debian12``
(``make images``); the fixture builds it with the same recipe when it is missing, so the
file runs alone, in any order.
"""
from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import boto3
import pytest

from localcloud_helpers import INSTANCE_IMAGE, start_server, stop_server, until

pytestmark = [pytest.mark.slow, pytest.mark.docker]

TAG = "localcloud:container"


def _docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture(scope="module")
def container_cloud(tmp_path_factory: pytest.TempPathFactory, localcloud: str,
                    docker_images: Callable[..., None]) -> Iterator:
    docker_images({"instance": INSTANCE_IMAGE})
    image = INSTANCE_IMAGE
    log = tmp_path_factory.mktemp("container_cloud") / "localcloud.log"
    url, proc = start_server(log, {"LOCALCLOUD_INSTANCE_IMAGE": image})
    state = {"stopped": False}
    try:
        yield lambda service: boto3.client(service, endpoint_url=url), proc, state
    finally:
        if not state["stopped"]:
            stop_server(proc)


def _container_state(name: str) -> str | None:
    result = _docker("inspect", "-f", "{{.State.Status}}", name)
    return result.stdout.strip() if result.returncode == 0 else None


def _systemd(name: str) -> str:
    return _docker("exec", name, "systemctl", "is-system-running").stdout.strip()


def _image_id(ec2) -> str:
    return ec2.describe_images(Owners=["136693071363"], Filters=[
        {"Name": "name", "Values": ["debian-12-amd64-*"]}])["Images"][0]["ImageId"]


def test_instance_lifecycle_drives_its_container(container_cloud) -> None:
    client, _, _ = container_cloud
    ec2 = client("ec2")
    instance = ec2.run_instances(ImageId=_image_id(ec2), MinCount=1, MaxCount=1)[
        "Instances"][0]["InstanceId"]
    tags = {t["Key"]: t["Value"] for t in ec2.describe_instances(InstanceIds=[instance])[
        "Reservations"][0]["Instances"][0]["Tags"]}
    name = tags[TAG]

    assert name == f"localcloud-{instance}"
    until(lambda: _systemd(name) in ("running", "degraded"))
    inspect = _docker("inspect", "-f", "{{.HostConfig.Privileged}} {{.HostConfig.CapAdd}}", name)
    assert inspect.stdout.startswith("false") and "SYS_ADMIN" in inspect.stdout

    ec2.stop_instances(InstanceIds=[instance])
    until(lambda: _container_state(name) == "exited")
    ec2.start_instances(InstanceIds=[instance])
    until(lambda: _container_state(name) == "running")
    ec2.terminate_instances(InstanceIds=[instance])
    until(lambda: _container_state(name) is None)


def _image_state(ec2, ami: str) -> str:
    return ec2.describe_images(ImageIds=[ami])["Images"][0]["State"]


def test_create_image_snapshots_the_container_and_boots_from_it(container_cloud) -> None:
    """A golden AMI on the twin: what the builder installed is in the instances of its AMI."""
    client, _, _ = container_cloud
    ec2 = client("ec2")
    builder = ec2.run_instances(ImageId=_image_id(ec2), MinCount=1, MaxCount=1)[
        "Instances"][0]["InstanceId"]
    until(lambda: _systemd(f"localcloud-{builder}") in ("running", "degraded"))
    assert _docker("exec", f"localcloud-{builder}", "sh", "-c",
                   "echo installed > /usr/local/share/golden-marker").returncode == 0
    ec2.stop_instances(InstanceIds=[builder])
    until(lambda: _container_state(f"localcloud-{builder}") == "exited")

    # amazon.aws.ec2_ami sends its tags for the image and its snapshot
    ami = ec2.create_image(InstanceId=builder, Name="golden-test", TagSpecifications=[
        {"ResourceType": kind, "Tags": [{"Key": "Name", "Value": "golden-test"}]}
        for kind in ("image", "snapshot")])["ImageId"]
    until(lambda: _image_state(ec2, ami) == "available")
    assert {"Key": "Name", "Value": "golden-test"} in ec2.describe_images(ImageIds=[ami])[
        "Images"][0]["Tags"]
    ec2.terminate_instances(InstanceIds=[builder])
    instance = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1)[
        "Instances"][0]["InstanceId"]
    name = f"localcloud-{instance}"
    until(lambda: _systemd(name) in ("running", "degraded"))

    assert _docker("inspect", "-f", "{{.Config.Image}}", name).stdout.strip() == \
        f"localcloud-ami:{ami}"
    assert _docker("exec", name, "cat", "/usr/local/share/golden-marker").stdout == "installed\n"
    ec2.terminate_instances(InstanceIds=[instance])
    until(lambda: _container_state(name) is None)
    ec2.deregister_image(ImageId=ami)
    until(lambda: _docker("image", "inspect", f"localcloud-ami:{ami}").returncode != 0)


def test_auto_scaling_instances_get_containers_and_exit_removes_them(container_cloud) -> None:
    client, proc, state = container_cloud
    ec2, asg = client("ec2"), client("autoscaling")
    template = ec2.create_launch_template(
        LaunchTemplateName="containers", LaunchTemplateData={"ImageId": _image_id(ec2)},
    )["LaunchTemplate"]["LaunchTemplateId"]
    asg.create_auto_scaling_group(
        AutoScalingGroupName="containers", MinSize=2, MaxSize=2, DesiredCapacity=2,
        AvailabilityZones=["eu-central-1a"],
        LaunchTemplate={"LaunchTemplateId": template, "Version": "1"})
    ids = [i["InstanceId"] for i in asg.describe_auto_scaling_groups(
        AutoScalingGroupNames=["containers"])["AutoScalingGroups"][0]["Instances"]]
    names = [f"localcloud-{i}" for i in ids]
    until(lambda: all(_container_state(n) == "running" for n in names))

    stop_server(proc)
    state["stopped"] = True

    assert all(_container_state(n) is None for n in names)
