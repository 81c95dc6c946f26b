"""With autobuy_admin_cidr set, the NAT instance is the SSH bastion: SSH from the admin
CIDR to it, from it to the private subnets, the instances' group takes SSH from its group
only, and the private ACL lets SSH in from the public subnets; idempotent, removed by
teardown. (The converged stack without an admin CIDR: test_provisioning_stack.py.)"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from provision_helpers import client, private_cloud, run_playbook

pytestmark = [pytest.mark.slow, pytest.mark.playbook, pytest.mark.localcloud]

ADMIN = "203.0.113.7/32"
EXTRA = {"autobuy_admin_cidr": ADMIN}
PRIVATE = {"10.0.3.0/24", "10.0.4.0/24", "10.0.6.0/24"}
PUBLIC = {"10.0.1.0/24", "10.0.2.0/24", "10.0.5.0/24"}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with private_cloud(tmp_path_factory.mktemp("bastion") / "localcloud.log") as url:
        first = run_playbook("site.yml", url, "--tags", "network,security", extra=EXTRA)
        assert first.returncode == 0, first.output[-4000:]
        yield url


def _group(url: str, name: str) -> dict[str, Any]:
    (group,) = client("ec2", url).describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [name]}])["SecurityGroups"]
    return group


def _rules(permissions: list[dict[str, Any]], port: int) -> set[str]:
    return {source for p in permissions if p.get("FromPort") == port
            for source in [r["CidrIp"] for r in p.get("IpRanges", [])]
            + [g["GroupId"] for g in p.get("UserIdGroupPairs", [])]}


def test_ssh_reaches_the_instances_only_through_the_nat_instance(cloud: str) -> None:
    nat, web = _group(cloud, "TaskApp-NAT-SG"), _group(cloud, "TaskApp-WebServer-SG")
    assert _rules(nat["IpPermissions"], 22) == {ADMIN}
    assert _rules(nat["IpPermissionsEgress"], 22) == PRIVATE
    assert _rules(web["IpPermissions"], 22) == {nat["GroupId"]}
    (acl,) = client("ec2", cloud).describe_network_acls(
        Filters=[{"Name": "tag:Name", "Values": ["TaskApp-Private-NACL"]}])["NetworkAcls"]
    ssh = {e["CidrBlock"] for e in acl["Entries"] if not e["Egress"] and e["RuleAction"] == "allow"
           and e.get("PortRange", {}).get("From") == 22}
    assert ssh == PUBLIC


def test_a_second_run_changes_nothing_and_teardown_removes_it(cloud: str) -> None:
    again = run_playbook("site.yml", cloud, "--tags", "network,security", extra=EXTRA)
    assert again.returncode == 0 and again.recap["changed"] == 0, again.output[-4000:]
    down = run_playbook("teardown.yml", cloud, "--tags", "security,network", extra=EXTRA)
    assert down.returncode == 0, down.output[-4000:]
    assert client("ec2", cloud).describe_security_groups(Filters=[
        {"Name": "group-name", "Values": ["TaskApp-NAT-SG", "TaskApp-WebServer-SG"]}])["SecurityGroups"] == []
