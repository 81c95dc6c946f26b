"""inventories/{local,aws}/aws_ec2.yml: groups and connection vars on the local cloud."""
from __future__ import annotations

import difflib
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from plugin_harness import ROOT, group_instances, make_group  # type: ignore[import-not-found]

BIN = ROOT / ".venv" / "bin"
ENDPOINT_LINE = ("endpoint_url: \"http://127.0.0.1:{{ lookup('ansible.builtin.env', 'LOCALCLOUD_PORT', "
                 "default='4566') or '4566' }}\"")


def inventory_copy(tmp_path: Path, url: str) -> Path:
    """The local inventory file, pointed at the fixture's port, caching into tmp_path."""
    text = (ROOT / "inventories" / "local" / "aws_ec2.yml").read_text()
    assert ENDPOINT_LINE in text
    text = text.replace(ENDPOINT_LINE, f"endpoint_url: {url}")
    text = text.replace("cache_connection: .cache/inventory", f"cache_connection: {tmp_path / 'cache'}")
    (tmp_path / "inv").mkdir()
    path = tmp_path / "inv" / "aws_ec2.yml"
    path.write_text(text)
    return path.parent


def ansible_inventory(inv: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}  # the file carries it all
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    out = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(inv), *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Failed to parse" not in out.stderr, out.stderr
    return out.stdout


def plain(value: Any) -> Any:
    """ansible-inventory --list marks unsafe strings as {"__ansible_unsafe": text}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@pytest.fixture
def group(localcloud: str) -> tuple[str, list[str]]:
    name = f"inv-{uuid.uuid4().hex[:6]}"
    make_group(name, 3, instance_tags={"Role": "backend", "Tier": "web"})
    return name, group_instances(name)


def test_graph_shows_the_group_instances(localcloud: str, group: tuple[str, list[str]], tmp_path: Path) -> None:
    name, instances = group
    inv = inventory_copy(tmp_path, localcloud)
    graph = ansible_inventory(inv, "--graph", f"asg_{name.replace('-', '_')}")
    assert sorted(line.strip(" |-") for line in graph.splitlines()[1:]) == instances
    listing: dict[str, Any] = plain(json.loads(ansible_inventory(inv, "--list")))
    for grp in ("role_backend", "tier_web", "state_running", "lifecycle_on_demand"):
        assert set(instances) <= set(listing[grp]["hosts"]), grp
    zones = [g for g in listing if g.startswith("az_eu_central_1")]
    assert set(instances) <= {h for z in zones for h in listing[z]["hosts"]}
    hostvars = listing["_meta"]["hostvars"][instances[0]]
    assert hostvars["ansible_connection"] == "ssh"
    assert hostvars["ansible_host"] == hostvars["ec2_public_ip_address"]
    assert hostvars["asg_name"] == name
    # caching is on: a cache file was written for this source
    assert any((tmp_path / "cache").iterdir())


def test_bastion_and_ssm_use_the_private_ip(localcloud: str, group: tuple[str, list[str]], tmp_path: Path) -> None:
    _, instances = group
    inv = inventory_copy(tmp_path, localcloud)
    ansible_inventory(inv, "--graph")
    bastion = plain(json.loads(ansible_inventory(inv, "--flush-cache", "--host", instances[0],
                                           "-e", "autobuy_bastion_host=admin@203.0.113.10")))
    assert bastion["ansible_host"] == bastion["ec2_private_ip_address"]
    assert bastion["ansible_ssh_common_args"] == "-o ProxyJump=admin@203.0.113.10"
    ssm = plain(json.loads(ansible_inventory(inv, "--flush-cache", "--host", instances[0], "-e", "autobuy_use_ssm=true")))
    assert ssm["ansible_connection"] == "community.aws.aws_ssm"
    assert ssm["ansible_aws_ssm_instance_id"] == instances[0]


def test_container_backed_instances_use_docker(localcloud: str, group: tuple[str, list[str]], tmp_path: Path) -> None:
    _, instances = group
    boto3.client("ec2").create_tags(Resources=[instances[0]], Tags=[
        {"Key": "localcloud:container", "Value": f"localcloud-{instances[0]}"}])
    inv = inventory_copy(tmp_path, localcloud)
    hostvars = plain(json.loads(ansible_inventory(inv, "--host", instances[0])))
    assert hostvars["ansible_connection"] == "community.docker.docker"
    assert hostvars["ansible_host"] == f"localcloud-{instances[0]}"


def test_the_local_inventory_reads_the_port_of_the_make_targets(
        localcloud: str, group: tuple[str, list[str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The file as it is: LOCALCLOUD_PORT (what `make local` and `make release` use) picks
    the local cloud, so an in-place deploy finds the twin's instances on any port."""
    text = (ROOT / "inventories" / "local" / "aws_ec2.yml").read_text()
    text = text.replace("cache_connection: .cache/inventory", f"cache_connection: {tmp_path / 'cache'}")
    (tmp_path / "inv").mkdir()
    (tmp_path / "inv" / "aws_ec2.yml").write_text(text)
    monkeypatch.setenv("LOCALCLOUD_PORT", localcloud.rpartition(":")[2])
    graph = ansible_inventory(tmp_path / "inv", "--graph")
    name, instances = group
    assert f"@asg_{name.replace('-', '_')}" in graph and all(i in graph for i in instances), graph


def test_the_two_inventories_differ_only_by_endpoint_and_cache() -> None:
    local = (ROOT / "inventories" / "local" / "aws_ec2.yml").read_text().splitlines()
    aws = (ROOT / "inventories" / "aws" / "aws_ec2.yml").read_text().splitlines()
    changed = [line[1:].split(":")[0] for line in difflib.unified_diff(aws, local, n=0, lineterm="")
               if line[:1] in "+-" and not line.startswith(("+++", "---")) and not line[1:].startswith("#")]
    assert set(changed) == {"endpoint_url", "access_key", "secret_key", "cache_prefix", "cache_timeout"}


def test_untagged_instances_parse_and_join_no_tag_group(localcloud: str, group: tuple[str, list[str]],
                                                        tmp_path: Path) -> None:
    """An instance without Role/Tier/ASG tags (launched by hand) must not break the inventory."""
    ec2 = boto3.client("ec2")
    image = ec2.describe_images(Owners=["136693071363"],
                                Filters=[{"Name": "name", "Values": ["debian-12-amd64-*"]}])["Images"][0]
    bare = ec2.run_instances(ImageId=image["ImageId"], MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    try:
        listing: dict[str, Any] = plain(json.loads(ansible_inventory(inventory_copy(tmp_path, localcloud), "--list")))
        assert bare in listing["_meta"]["hostvars"]
        assert bare not in listing["role_backend"]["hosts"]
        assert not [g for g in listing if g in ("role", "tier", "asg", "role_", "tier_", "asg_")]
    finally:
        ec2.terminate_instances(InstanceIds=[bare])
