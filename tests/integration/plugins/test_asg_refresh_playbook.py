"""asg_refresh in real playbook runs: progress lines while waiting, success and rollback."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import boto3
import pytest

from playbook_harness import playbook, write_inventory  # type: ignore[import-not-found]
from plugin_harness import group_instances, make_group  # type: ignore[import-not-found]

pytestmark = [pytest.mark.slow, pytest.mark.playbook]
PROGRESS = re.compile(r"asg_refresh \[localhost\] (\S+): refresh (\S+) (\w+), (\d+)% complete, "
                      r"(\d+) instance\(s\) to update, \d+s")


def new_group(size: int, **tags: str) -> str:
    name = f"pb-{uuid.uuid4().hex[:6]}"
    make_group(name, size, tags=tags)
    boto3.client("ec2").create_launch_template_version(
        LaunchTemplateName=f"{name}-lt", SourceVersion="1", LaunchTemplateData={"InstanceType": "t3.micro"})
    return name


def test_three_instances_refreshed_with_progress(localcloud: str, tmp_path: Path) -> None:
    name = new_group(3)
    before = group_instances(name)
    # 3 batches of one instance, ~4 s each: long enough to be seen in progress
    inventory = write_inventory(tmp_path / "hosts.json", ["localhost"], it_group=name, it_version="2",
                                it_warmup=400)
    out = playbook("asg_refresh.yml", inventory)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    lines = PROGRESS.findall(out.stdout)
    assert len(lines) >= 3, out.stdout
    assert {line[0] for line in lines} == {name}
    percentages = [int(line[3]) for line in lines]
    assert percentages == sorted(percentages) and percentages[-1] == 100
    assert lines[-1][2] == "Successful" and any(line[2] == "InProgress" for line in lines)
    assert "outcome=Successful replaced=100" in out.stdout
    after = group_instances(name)
    assert len(after) == 3 and not set(after) & set(before), "every instance replaced"


def test_failed_refresh_rolls_back_and_fails_the_task(localcloud: str, tmp_path: Path) -> None:
    name = new_group(3, **{"localcloud:fail-refresh-after": "1"})
    inventory = write_inventory(tmp_path / "hosts.json", ["localhost"], it_group=name, it_version="2")
    out = playbook("asg_refresh.yml", inventory)
    assert out.returncode == 2, out.stdout[-4000:]
    assert re.search(rf"instance refresh \S+ of {name} ended RollbackSuccessful: \S+", out.stdout), out.stdout
    assert any(line[2] == "RollbackInProgress" for line in PROGRESS.findall(out.stdout)), out.stdout
    assert "failed=1" in out.stdout and "outcome=" not in out.stdout
    versions = {i["LaunchTemplate"]["Version"] for i in boto3.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"][0]["Instances"]}
    assert versions == {"1"}


def test_async_refresh_waits_inside_the_module(localcloud: str, tmp_path: Path) -> None:
    name = new_group(2)
    inventory = write_inventory(tmp_path / "hosts.json", ["localhost"], it_group=name, it_version="2")
    out = playbook("asg_refresh_async.yml", inventory)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    match = re.search(r"outcome=Successful steps=(\d+)", out.stdout)
    assert match and int(match.group(1)) >= 2, out.stdout
