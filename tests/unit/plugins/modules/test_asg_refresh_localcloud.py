"""asg_refresh against the local cloud's instance refresh state machine.

Simulated waits are scaled by LOCALCLOUD_TIME_SCALE (default 0.01): an instance
warm-up of 100 s takes about 1 s here.
"""
from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from ansible_collections.autobuy.guard.plugins.modules import asg_refresh as m
from plugin_harness import (  # type: ignore[import-not-found]
    ModuleFailed,
    group_instances,
    make_group,
    run_module,
)

pytestmark = pytest.mark.slow


def new_version(name: str) -> str:
    """A new launch template version (another instance type), the group's refresh target."""
    ec2 = boto3.client("ec2")
    version = ec2.create_launch_template_version(
        LaunchTemplateName=f"{name}-lt", SourceVersion="1",
        LaunchTemplateData={"InstanceType": "t3.micro"})["LaunchTemplateVersion"]["VersionNumber"]
    return str(version)


def group(size: int = 3, **tags: str) -> str:
    name = f"rf-{uuid.uuid4().hex[:6]}"
    make_group(name, size, tags=tags)
    return name


def run(args: dict[str, Any], monkeypatch: pytest.MonkeyPatch, check: bool = False) -> dict[str, Any]:
    return run_module(m, {"poll_interval": 1, "timeout": 120, **args}, check_mode=check, monkeypatch=monkeypatch)


def desired(name: str, version: str = "2") -> dict[str, Any]:
    return {"launch_template": {"name": f"{name}-lt", "version": version}}


def starts(url: str) -> int:
    import json
    import urllib.request

    with urllib.request.urlopen(url + "/localcloud/calls", timeout=5) as r:
        return json.load(r)["by_service"].get("autoscaling", {}).get("StartInstanceRefresh", 0)


def test_refresh_replaces_every_instance(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name = group()
    before = group_instances(name)
    new_version(name)
    check = run({"name": name, "desired_configuration": desired(name)}, monkeypatch, check=True)
    assert check["changed"] is True and group_instances(name) == before
    result = run({"name": name, "desired_configuration": desired(name),
                  "preferences": {"min_healthy_percentage": 66, "instance_warmup": 50, "skip_matching": True}},
                 monkeypatch)
    assert result["changed"] is True and result["status"] == "Successful"
    assert result["percentage_complete"] == 100 and result["instances_to_update"] == 0
    assert result["progress"] and result["progress"][-1]["status"] == "Successful"
    assert result["duration"] > 0
    after = group_instances(name)
    assert len(after) == 3 and not set(after) & set(before)

    # everything already runs the desired version: no refresh is even started
    calls_before = starts(localcloud)
    again = run({"name": name, "desired_configuration": desired(name), "preferences": {"skip_matching": True}},
                monkeypatch)
    assert again["changed"] is False and again["status"] == "NotStarted"
    assert starts(localcloud) == calls_before and group_instances(name) == after


def test_running_refresh_is_followed_not_restarted(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name = group(2)
    new_version(name)
    # 4 s per instance here: the refresh must still be running when the second run starts,
    # also on a loaded machine (with 1 s the first batch could finish in between).
    args = {"name": name, "desired_configuration": desired(name), "preferences": {"instance_warmup": 400}}
    first = run({**args, "wait": False}, monkeypatch)
    assert first["changed"] is True and first["status"] in ("Pending", "InProgress")
    calls_before = starts(localcloud)
    followed = run(args, monkeypatch)
    assert followed["changed"] is False and followed["followed"] is True
    assert followed["refresh_id"] == first["refresh_id"] and followed["status"] == "Successful"
    assert starts(localcloud) == calls_before


def test_failure_rolls_back_and_fails_with_the_reason(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name = group(3, **{"localcloud:fail-refresh-after": "1"})
    before = group_instances(name)
    new_version(name)
    with pytest.raises(ModuleFailed) as failed:
        run({"name": name, "desired_configuration": desired(name),
             "preferences": {"min_healthy_percentage": 66, "instance_warmup": 50, "auto_rollback": True}},
            monkeypatch)
    result = failed.value.result
    assert result["status"] == "RollbackSuccessful", result
    assert result["status_reason"] and result["msg"].endswith(result["status_reason"])
    assert f"of {name} ended RollbackSuccessful: " in result["msg"]
    assert result["changed"] is True
    after = group_instances(name)
    assert len(after) == 3 and set(after) != set(before)
    versions = {i["LaunchTemplate"]["Version"] for i in boto3.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"][0]["Instances"]}
    assert versions == {"1"}, "rolled back onto the previous version"


def test_failure_without_rollback(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name = group(2, **{"localcloud:fail-refresh-after": "0"})
    new_version(name)
    with pytest.raises(ModuleFailed) as failed:
        run({"name": name, "desired_configuration": desired(name),
             "preferences": {"instance_warmup": 50, "auto_rollback": False}}, monkeypatch)
    assert failed.value.result["status"] == "Failed"
    assert "ended Failed: " in failed.value.result["msg"] and failed.value.result["status_reason"]


def test_cancel_and_timeout(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name = group(2)
    new_version(name)
    args = {"name": name, "desired_configuration": desired(name), "preferences": {"instance_warmup": 6000}}
    with pytest.raises(ModuleFailed) as timed_out:
        run({**args, "timeout": 2}, monkeypatch)
    assert "timed out after 2s" in timed_out.value.result["msg"]
    assert "it keeps running" in timed_out.value.result["msg"]
    assert run({"name": name, "state": "cancelled"}, monkeypatch, check=True)["changed"] is True
    cancelled = run({"name": name, "state": "cancelled"}, monkeypatch)
    assert cancelled["changed"] is True and cancelled["status"] == "Cancelled"
    assert run({"name": name, "state": "cancelled"}, monkeypatch)["changed"] is False


def test_rollback_on_request(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name = group(2)
    new_version(name)
    run({"name": name, "desired_configuration": desired(name), "preferences": {"instance_warmup": 300},
         "wait": False}, monkeypatch)
    rolled = run({"name": name, "state": "rolled_back"}, monkeypatch)
    assert rolled["changed"] is True and rolled["status"] == "RollbackSuccessful"
