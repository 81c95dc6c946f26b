"""The network tier's NAT instance boots on the local cloud as a machine that forwards:
its container runs the user data (playbooks/templates/nat_instance.cloud-config.j2) and
ends with IPv4 forwarding on and the VPC's traffic masqueraded, as on AWS; the API reads
the instance and the private route table as AWS would describe them.

Needs the Docker engine and the Debian 12 AMI image (built when missing). What the twin
does not model yet (the private instances routed through it): docs/security.md.
"""
from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from localcloud_helpers import until

from localcloud import launch
from tests.playbooks.provision_helpers import client, run_playbook

pytestmark = [pytest.mark.slow, pytest.mark.docker]

BOOT_TIMEOUT = 240  # cloud-init done, with margin for a loaded 2-core machine


def _docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory, ami_image: str) -> Iterator[tuple[str, dict]]:
    """The network tier converged on a local cloud whose instances are containers; the
    NAT instance as DescribeInstances shows it."""
    log = tmp_path_factory.mktemp("nat") / "localcloud.log"
    with launch.running(log=log, settings={"LOCALCLOUD_TWIN": "off",
                                           "LOCALCLOUD_INSTANCES": "containers"}) as cloud:
        run = run_playbook("playbooks/network.yml", cloud.url)
        assert run.returncode == 0, run.output[-4000:]
        ec2 = client("ec2", cloud.url)
        (nat,) = [i for r in ec2.describe_instances(Filters=[
            {"Name": "tag:Name", "Values": ["TaskApp-NAT"]},
            {"Name": "instance-state-name", "Values": ["running"]}])["Reservations"]
            for i in r["Instances"]]
        try:
            yield cloud.url, nat
        finally:
            teardown = run_playbook("teardown.yml", cloud.url, "--tags", "network")
            assert teardown.returncode == 0, teardown.output[-4000:]


def test_the_nat_instance_forwards_and_masquerades_the_vpc(network: tuple[str, dict]) -> None:
    _, nat = network
    name = {t["Key"]: t["Value"] for t in nat["Tags"]}["localcloud:container"]
    until(lambda: _docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "true",
          what=f"container {name}")
    status = _docker("exec", name, "cloud-init", "status", "--wait", timeout=BOOT_TIMEOUT)
    assert "status: done" in status.stdout, status.stdout + status.stderr
    unit = _docker("exec", name, "systemctl", "is-active", "autobuy-nat.service")
    assert unit.stdout.strip() == "active", _docker(
        "exec", name, "journalctl", "-u", "autobuy-nat.service", "--no-pager").stdout
    assert _docker("exec", name, "cat", "/proc/sys/net/ipv4/ip_forward").stdout.strip() == "1"
    table = _docker("exec", name, "nft", "list", "table", "ip", "autobuy_nat").stdout
    assert "hook postrouting" in table
    assert "ip saddr 10.0.0.0/16 ip daddr != 10.0.0.0/16 masquerade" in table, table


def test_the_nat_instance_is_what_the_design_says(network: tuple[str, dict]) -> None:
    url, nat = network
    ec2 = client("ec2", url)
    assert nat["PublicIpAddress"] and nat["SourceDestCheck"] is False
    assert (nat["InstanceType"], nat["Architecture"]) == ("t4g.nano", "arm64")
    assert nat["MetadataOptions"]["HttpTokens"] == "required"
    assert "IamInstanceProfile" not in nat
    volumes = ec2.describe_volumes(VolumeIds=[
        m["Ebs"]["VolumeId"] for m in nat["BlockDeviceMappings"]])["Volumes"]
    assert volumes and all(v["Encrypted"] for v in volumes)
    (table,) = ec2.describe_route_tables(Filters=[
        {"Name": "tag:Name", "Values": ["TaskApp-Private-RT"]}])["RouteTables"]
    (default,) = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    assert (default["NetworkInterfaceId"], default["InstanceId"]) == (
        nat["NetworkInterfaces"][0]["NetworkInterfaceId"], nat["InstanceId"])
