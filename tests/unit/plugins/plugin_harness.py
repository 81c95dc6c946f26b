"""Harness for the plugin unit tests: run modules in-process, make local-cloud fixtures.

The code under test is imported as Ansible imports it, from the collection:
``ansible_collections.autobuy.guard.plugins...`` through ansible-core's collection loader,
which conftest.py sets up on ``collections/`` (its ``ansible_collections/autobuy/guard``
links to the repository root), as ansible.cfg's ``collections_path`` does.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]


class ModuleExit(Exception):
    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(result.get("msg", ""))
        self.result = result


class ModuleFailed(ModuleExit):
    pass


def run_module(module: ModuleType, args: dict[str, Any], *, check_mode: bool = False,
               monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run ``module.main()`` with ``args``; return exit_json's result, raise ModuleFailed."""
    from ansible.module_utils import basic

    payload = {"ANSIBLE_MODULE_ARGS": {**args, "_ansible_check_mode": check_mode}}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps(payload).encode())
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")

    def exit_json(self: Any, **result: Any) -> None:
        raise ModuleExit(result)

    def fail_json(self: Any, msg: str, **result: Any) -> None:
        raise ModuleFailed({"msg": msg, "failed": True, **result})

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    try:
        module.main()
    except ModuleFailed:
        raise
    except ModuleExit as done:
        return done.result
    raise AssertionError("module returned without exit_json/fail_json")


def make_group(name: str, size: int, *, tags: dict[str, str] | None = None,
               instance_tags: dict[str, str] | None = None) -> dict[str, Any]:
    """A launch template + Auto Scaling group of ``size`` instances on the local cloud."""
    import boto3

    ec2 = boto3.client("ec2")
    images = ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-12-amd64-*"]}])["Images"]
    image = (images or ec2.describe_images()["Images"])[0]["ImageId"]
    data: dict[str, Any] = {"ImageId": image, "InstanceType": "t2.micro"}
    if instance_tags:
        data["TagSpecifications"] = [{"ResourceType": "instance", "Tags": [
            {"Key": k, "Value": v} for k, v in instance_tags.items()]}]
    lt = ec2.create_launch_template(LaunchTemplateName=f"{name}-lt", LaunchTemplateData=data)
    asg = boto3.client("autoscaling")
    asg.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateName": f"{name}-lt", "Version": "1"},
        MinSize=size, MaxSize=size + 2, DesiredCapacity=size,
        AvailabilityZones=["eu-central-1a", "eu-central-1b", "eu-central-1c"],
        Tags=[{"Key": k, "Value": v, "PropagateAtLaunch": True} for k, v in (tags or {}).items()],
    )
    return {"launch_template_id": lt["LaunchTemplate"]["LaunchTemplateId"], "image": image}


def group_instances(name: str) -> list[str]:
    import boto3

    groups = boto3.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    return sorted(i["InstanceId"] for i in groups["AutoScalingGroups"][0]["Instances"])
