"""Instances are machines that boot: with ``LOCALCLOUD_INSTANCES=containers`` every instance
is a systemd container of its AMI's image, cloud-init runs its user data at boot,
``GetConsoleOutput`` shows the output, and a container killed under a group is replaced.

Needs the Docker engine; the images are built here when missing (``make images`` builds
them too): the Debian base, ``autobuy/instance:debian12`` and ``autobuy/ami:debian12``
(the image the local cloud's Debian 12 AMIs map to). Under ``CI=true`` nothing skips.
"""
from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Callable, Iterator

import boto3
import pytest
from localcloud_helpers import start_server, stop_server, until

pytestmark = [pytest.mark.slow, pytest.mark.docker]

TAG = "localcloud:container"
BOOT_TIMEOUT = 240  # cloud-init done, with margin for a loaded 2-core machine


def _docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture(scope="module")
def boot_cloud(tmp_path_factory: pytest.TempPathFactory, localcloud: str,
               ami_image: str) -> Iterator[Callable]:
    """A local cloud whose instances are containers (`localcloud` sets region and keys)."""
    log = tmp_path_factory.mktemp("boot_cloud") / "localcloud.log"
    url, proc = start_server(log, {"LOCALCLOUD_INSTANCES": "containers"})
    try:
        yield lambda service: boto3.client(service, endpoint_url=url)
    finally:
        stop_server(proc)


def _running(name: str) -> bool:
    result = _docker("inspect", "-f", "{{.State.Status}}", name)
    return result.returncode == 0 and result.stdout.strip() == "running"


def _booted(name: str) -> str:
    """Wait for the container, then for cloud-init to finish; its final status line."""
    until(lambda: _running(name), what=f"container {name}")
    done = _docker("exec", name, "cloud-init", "status", "--wait", timeout=BOOT_TIMEOUT)
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr


def _read(name: str, path: str) -> str:
    result = _docker("exec", name, "cat", path)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _debian12(ec2) -> str:
    images = ec2.describe_images(Owners=["136693071363"], Filters=[
        {"Name": "name", "Values": ["debian-12-amd64-*"]},
        {"Name": "architecture", "Values": ["x86_64"]}])["Images"]
    return max(images, key=lambda i: i["CreationDate"])["ImageId"]


def _container(ec2, instance_id: str) -> str:
    tags = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0][
        "Instances"][0].get("Tags", [])
    return {t["Key"]: t["Value"] for t in tags}[TAG]


def _user_data(marker: str) -> str:
    return ("#!/bin/bash\n"
            f"echo {marker} > /root/user-data-ran\n"
            "hostname >> /root/user-data-ran\n"
            f"echo 'user data {marker} ran as' \"$(id -un)\"\n")


def test_run_instances_boots_the_user_data_with_cloud_init(boot_cloud) -> None:
    ec2 = boot_cloud("ec2")
    started = time.monotonic()
    instance = ec2.run_instances(ImageId=_debian12(ec2), MinCount=1, MaxCount=1,
                                 UserData=_user_data("run-instances"))["Instances"][0]
    name = _container(ec2, instance["InstanceId"])

    assert _booted(name) == "status: done"
    boot_seconds = time.monotonic() - started
    print(f"RunInstances -> cloud-init done: {boot_seconds:.1f} s")

    hostname = instance["PrivateDnsName"].split(".")[0]
    assert _read(name, "/root/user-data-ran").split() == ["run-instances", hostname]
    assert _read(name, "/var/lib/cloud/data/instance-id").strip() == instance["InstanceId"]
    console = ec2.get_console_output(InstanceId=instance["InstanceId"])
    output = console["Output"]  # base64 on the wire; botocore decodes it, as for EC2
    assert "user data run-instances ran as root" in output
    assert "Cloud-init v." in output and "finished at" in output
    inspect = _docker("inspect", "-f", "{{.HostConfig.Privileged}} {{.HostConfig.CapAdd}}", name)
    assert inspect.stdout.startswith("false") and "SYS_RESOURCE" not in inspect.stdout


def test_auto_scaling_instance_boots_its_launch_template_versions_user_data(boot_cloud) -> None:
    ec2, asg = boot_cloud("ec2"), boot_cloud("autoscaling")
    image = _debian12(ec2)
    template = ec2.create_launch_template(
        LaunchTemplateName="boot", LaunchTemplateData={
            "ImageId": image, "UserData": base64.b64encode(_user_data("v1").encode()).decode()},
    )["LaunchTemplate"]["LaunchTemplateId"]
    ec2.create_launch_template_version(
        LaunchTemplateId=template, LaunchTemplateData={
            "ImageId": image, "UserData": base64.b64encode(_user_data("v2").encode()).decode()})
    asg.create_auto_scaling_group(
        AutoScalingGroupName="boot", MinSize=1, MaxSize=1, DesiredCapacity=1,
        AvailabilityZones=["eu-central-1a"],
        LaunchTemplate={"LaunchTemplateId": template, "Version": "2"})
    instance_id = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["boot"])[
        "AutoScalingGroups"][0]["Instances"][0]["InstanceId"]
    name = _container(ec2, instance_id)

    assert _booted(name) == "status: done"
    assert _read(name, "/root/user-data-ran").split()[0] == "v2"
    output = ec2.get_console_output(InstanceId=instance_id)["Output"]
    assert "user data v2 ran as root" in output


def test_killed_instance_is_stopped_and_its_group_replaces_it(boot_cloud) -> None:
    ec2, asg = boot_cloud("ec2"), boot_cloud("autoscaling")
    template = ec2.create_launch_template(
        LaunchTemplateName="dies", LaunchTemplateData={
            "ImageId": _debian12(ec2),
            "UserData": base64.b64encode(_user_data("replaced").encode()).decode()},
    )["LaunchTemplate"]["LaunchTemplateId"]
    asg.create_auto_scaling_group(
        AutoScalingGroupName="dies", MinSize=1, MaxSize=1, DesiredCapacity=1,
        AvailabilityZones=["eu-central-1a"],
        LaunchTemplate={"LaunchTemplateId": template, "Version": "1"})

    def members() -> list[str]:
        return [i["InstanceId"] for i in asg.describe_auto_scaling_groups(
            AutoScalingGroupNames=["dies"])["AutoScalingGroups"][0]["Instances"]]

    [first] = members()
    name = _container(ec2, first)
    until(lambda: _running(name), what=f"container {name}")
    assert _docker("kill", name).returncode == 0

    until(lambda: members() and members() != [first], what="a replacement in the group")
    killed = ec2.describe_instances(InstanceIds=[first])["Reservations"][0]["Instances"][0]
    assert killed["State"]["Name"] == "terminated"
    [second] = members()
    replacement = _container(ec2, second)
    assert _booted(replacement) == "status: done"
    assert _read(replacement, "/root/user-data-ran").split()[0] == "replaced"
    until(lambda: _docker("inspect", name).returncode != 0, what=f"{name} removed")


def test_killed_instance_outside_a_group_is_stopped(boot_cloud) -> None:
    ec2 = boot_cloud("ec2")
    instance_id = ec2.run_instances(ImageId=_debian12(ec2), MinCount=1, MaxCount=1,
                                    UserData=_user_data("once"))["Instances"][0]["InstanceId"]
    name = _container(ec2, instance_id)
    assert _booted(name) == "status: done"
    assert _docker("kill", name).returncode == 0

    def described() -> dict:
        return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0][
            "Instances"][0]

    until(lambda: described()["State"]["Name"] == "stopped", what="the instance stopped")
    assert described()["StateReason"]["Code"] == "Server.InternalError"
    ec2.start_instances(InstanceIds=[instance_id])
    assert _booted(name) == "status: done"
    # booted again, but user data runs once per instance, as on EC2
    output = ec2.get_console_output(InstanceId=instance_id)["Output"]
    assert output.count("user data once ran as root") == 1
    assert output.count("running 'init-local'") == 2  # two boots


def test_instances_stay_records_by_default(localcloud: str) -> None:
    ec2 = boto3.client("ec2", endpoint_url=localcloud)
    instance = ec2.run_instances(ImageId=_debian12(ec2), MinCount=1, MaxCount=1)[
        "Instances"][0]
    assert TAG not in {t["Key"] for t in instance.get("Tags", [])}
    assert _docker("inspect", f"localcloud-{instance['InstanceId']}").returncode != 0
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])


def test_instance_refresh_boots_the_new_versions_user_data(boot_cloud) -> None:
    ec2, asg = boot_cloud("ec2"), boot_cloud("autoscaling")
    image = _debian12(ec2)
    template = ec2.create_launch_template(
        LaunchTemplateName="refresh", LaunchTemplateData={
            "ImageId": image,
            "UserData": base64.b64encode(_user_data("before").encode()).decode()},
    )["LaunchTemplate"]["LaunchTemplateId"]
    ec2.create_launch_template_version(
        LaunchTemplateId=template, LaunchTemplateData={
            "ImageId": image,
            "UserData": base64.b64encode(_user_data("after").encode()).decode()})
    asg.create_auto_scaling_group(
        AutoScalingGroupName="refresh", MinSize=1, MaxSize=1, DesiredCapacity=1,
        AvailabilityZones=["eu-central-1a"],
        LaunchTemplate={"LaunchTemplateId": template, "Version": "1"})
    [old] = [i["InstanceId"] for i in asg.describe_auto_scaling_groups(
        AutoScalingGroupNames=["refresh"])["AutoScalingGroups"][0]["Instances"]]

    refresh = asg.start_instance_refresh(
        AutoScalingGroupName="refresh", Preferences={"InstanceWarmup": 0},
        DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": template,
                                                 "Version": "2"}})["InstanceRefreshId"]
    until(lambda: asg.describe_instance_refreshes(
        AutoScalingGroupName="refresh", InstanceRefreshIds=[refresh])["InstanceRefreshes"][0][
        "Status"] == "Successful", what="the refresh")
    [new] = [i["InstanceId"] for i in asg.describe_auto_scaling_groups(
        AutoScalingGroupNames=["refresh"])["AutoScalingGroups"][0]["Instances"]]

    assert new != old
    name = _container(ec2, new)
    assert _booted(name) == "status: done"
    assert _read(name, "/root/user-data-ran").split()[0] == "after"
    until(lambda: _docker("inspect", f"localcloud-{old}").returncode != 0,
           what="the old instance's container removed")


def test_instance_runs_docker_installed_by_its_user_data(boot_cloud) -> None:
    """The nested engine: Debian's docker.io, installed at boot as the stack's user data
    does, runs containers (overlay2 on the instance's /var/lib/docker volume)."""
    ec2 = boot_cloud("ec2")
    script = ("#!/bin/bash\nset -euo pipefail\nexport DEBIAN_FRONTEND=noninteractive\n"
              "apt-get update -q\napt-get install -y -q docker.io\n"
              "systemctl enable --now docker\n")
    instance_id = ec2.run_instances(ImageId=_debian12(ec2), MinCount=1, MaxCount=1,
                                    UserData=script)["Instances"][0]["InstanceId"]
    name = _container(ec2, instance_id)
    assert _booted(name) == "status: done", ec2.get_console_output(
        InstanceId=instance_id).get("Output", "")[-3000:]

    save = subprocess.Popen(["docker", "save", "autobuy/debian:bookworm"],
                            stdout=subprocess.PIPE)
    load = subprocess.run(["docker", "exec", "-i", name, "docker", "load"], stdin=save.stdout,
                          capture_output=True, text=True, timeout=300, check=False)
    save.wait(timeout=60)
    assert load.returncode == 0, load.stderr
    ran = _docker("exec", name, "docker", "run", "--rm", "--user", "1000",
                  "autobuy/debian:bookworm", "sh", "-c", "echo inside; id -u", timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["inside", "1000"]
    driver = _docker("exec", name, "docker", "info", "--format", "{{.Driver}}")
    assert driver.stdout.strip() == "overlay2"
