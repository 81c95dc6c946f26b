"""asg_refresh in real playbook runs: progress lines while waiting, success and rollback."""
from __future__ import annotations

import json
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from playbook_harness import calls, playbook, write_inventory  # type: ignore[import-not-found]
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
    # batches of ~4 s: the 1 s polls see the rollback in progress even on a loaded machine
    # (with 1 s batches a poll could miss it, and the test failed for the machine's load)
    inventory = write_inventory(tmp_path / "hosts.json", ["localhost"], it_group=name, it_version="2",
                                it_warmup=400)
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


# ----------------------------------------------------------------------------------------
# The module's cases, played by the local cloud's refresh state machine and run as users
# run them: tasks of a playbook, each result registered and read back as JSON, the group's
# state read with boto3. (Only time-outs stay on the scripted fake, test_asg_refresh.py.)

MODULE = "autobuy.guard.asg_refresh"


def run_steps(tmp_path: Path, *steps: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """One playbook run of ``asg_refresh`` tasks, one per step ({"args": ..., "check": bool});
    returns every registered result (failures included) and the run's output."""
    results = tmp_path / "results.json"
    tasks = [{"name": f"Step {n}", MODULE: {"poll_interval": 1, "timeout": 120, **step["args"]},
              "check_mode": step.get("check", False), "register": f"it_step_{n}",
              "ignore_errors": True} for n, step in enumerate(steps)]
    registered = ", ".join(f"it_step_{n}" for n in range(len(steps)))
    tasks.append({"name": "Write the results", "check_mode": False, "ansible.builtin.copy": {
        "content": "{{ [" + registered + "] | to_json }}", "dest": str(results), "mode": "0600"}})
    book = tmp_path / "steps.yml"
    book.write_text(json.dumps([{"name": "asg_refresh cases", "hosts": "targets",
                                 "gather_facts": False, "tasks": tasks}]))
    inventory = write_inventory(tmp_path / "hosts.json", ["localhost"])
    out = playbook(str(book), inventory)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    return json.loads(results.read_text()), out.stdout


def calls_since(url: str, before: dict[str, int]) -> dict[str, int]:
    """Auto Scaling calls the local cloud answered since ``before`` (by operation)."""
    now = calls(url, "autoscaling")
    return {op: n - before.get(op, 0) for op, n in now.items() if n != before.get(op, 0)}


def desired(name: str, version: str = "2") -> dict[str, Any]:
    return {"launch_template": {"name": f"{name}-lt", "version": version}}


def refreshes(name: str) -> list[dict[str, Any]]:
    """The group's refreshes, newest first, as AWS reports them."""
    return boto3.client("autoscaling").describe_instance_refreshes(
        AutoScalingGroupName=name)["InstanceRefreshes"]


def versions(name: str) -> set[str]:
    group = boto3.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    return {i["LaunchTemplate"]["Version"] for i in group["Instances"]}


def test_starts_and_follows_to_success(localcloud: str, tmp_path: Path) -> None:
    name = new_group(3)
    before = group_instances(name)
    (result,), out = run_steps(tmp_path, {"args": {
        "name": name, "desired_configuration": desired(name),
        "preferences": {"min_healthy_percentage": 66, "instance_warmup": 50}}})
    assert result["changed"] is True and result["status"] == "Successful", result
    assert result["percentage_complete"] == 100 and result["instances_to_update"] == 0
    assert result["duration"] > 0
    steps = [p["percentage_complete"] for p in result["progress"]]
    assert steps == sorted(set(steps)) and steps[-1] == 100  # one entry per change
    assert PROGRESS.search(out), out
    # what AWS was asked for, read back from the group's refresh
    (refresh,) = refreshes(name)
    assert refresh["InstanceRefreshId"] == result["refresh_id"]
    assert refresh["Preferences"]["MinHealthyPercentage"] == 66
    assert refresh["Preferences"]["InstanceWarmup"] == 50
    assert refresh["DesiredConfiguration"] == {
        "LaunchTemplate": {"LaunchTemplateName": f"{name}-lt", "Version": "2"}}
    after = group_instances(name)
    assert len(after) == 3 and not set(after) & set(before) and versions(name) == {"2"}


def test_running_refresh_with_same_configuration_is_followed(localcloud: str,
                                                            tmp_path: Path) -> None:
    name = new_group(2)
    before = calls(localcloud, "autoscaling")
    args = {"name": name, "desired_configuration": desired(name),
            "preferences": {"instance_warmup": 100}}
    first, second = run_steps(tmp_path, {"args": {**args, "wait": False}}, {"args": args})[0]
    assert first["changed"] is True and first["status"] in ("Pending", "InProgress"), first
    assert second["changed"] is False and second["followed"] is True, second
    assert second["refresh_id"] == first["refresh_id"] and second["status"] == "Successful"
    assert calls_since(localcloud, before)["StartInstanceRefresh"] == 1
    assert len(refreshes(name)) == 1 and versions(name) == {"2"}


def test_running_refresh_with_other_configuration_fails(localcloud: str, tmp_path: Path) -> None:
    name = new_group(2)
    args = {"name": name, "desired_configuration": desired(name)}
    first, second = run_steps(
        tmp_path, {"args": {**args, "wait": False, "preferences": {"instance_warmup": 3000}}},
        {"args": {**args, "preferences": {"instance_warmup": 60}}})[0]
    assert first["changed"] is True
    assert second["failed"] is True
    assert "with another configuration; cancel it first" in second["msg"], second
    (refresh,) = refreshes(name)  # the running one is left alone
    assert refresh["Status"] in ("Pending", "InProgress")
    assert refresh["Preferences"]["InstanceWarmup"] == 3000


@pytest.mark.parametrize(("final", "fail_after", "rollback"), [
    ("Failed", "0", False),
    ("RollbackSuccessful", "1", True),
])
def test_bad_endings_fail_with_the_reason(localcloud: str, tmp_path: Path, final: str,
                                          fail_after: str, rollback: bool) -> None:
    name = new_group(3, **{"localcloud:fail-refresh-after": fail_after})
    (result,), _out = run_steps(tmp_path, {"args": {
        "name": name, "desired_configuration": desired(name),
        "preferences": {"min_healthy_percentage": 66, "instance_warmup": 50,
                        "auto_rollback": rollback}}})
    (refresh,) = refreshes(name)
    reason = refresh["StatusReason"]
    assert refresh["Status"] == final and reason
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"] == f"instance refresh {refresh['InstanceRefreshId']} of {name} ended {final}: {reason}"
    assert result["status"] == final and result["status_reason"] == reason
    if rollback:
        assert versions(name) == {"1"}, "rolled back onto the previous version"


def test_refresh_cancelled_while_followed_fails_with_the_reason(localcloud: str,
                                                               tmp_path: Path) -> None:
    name = new_group(2)
    autoscaling = boto3.client("autoscaling")
    # the playbook follows a slow refresh; someone cancels it meanwhile
    outcome: dict[str, Any] = {}

    def follow() -> None:
        outcome["steps"], outcome["out"] = run_steps(tmp_path, {"args": {
            "name": name, "desired_configuration": desired(name),
            "preferences": {"instance_warmup": 6000}}})

    follower = threading.Thread(target=follow)
    follower.start()
    deadline = time.monotonic() + 120
    while not [r for r in refreshes(name) if r["Status"] == "InProgress"]:
        assert follower.is_alive() and time.monotonic() < deadline, outcome
        time.sleep(0.2)
    autoscaling.cancel_instance_refresh(AutoScalingGroupName=name)
    follower.join(timeout=300)
    (result,) = outcome["steps"]
    (refresh,) = refreshes(name)
    assert refresh["Status"] == "Cancelled"
    assert result["failed"] is True and result["status"] == "Cancelled"
    assert result["msg"].startswith(f"instance refresh {refresh['InstanceRefreshId']} of {name} "
                                    "ended Cancelled")


def test_skip_matching(localcloud: str, tmp_path: Path) -> None:
    name = new_group(3)
    before = calls(localcloud, "autoscaling")
    args = {"name": name, "desired_configuration": desired(name),
            "preferences": {"skip_matching": True, "instance_warmup": 10}}
    first, again = run_steps(tmp_path, {"args": args}, {"args": args})[0]
    assert first["changed"] is True and first["status"] == "Successful"
    # every instance runs the desired version: nothing is started
    assert again["changed"] is False and again["status"] == "NotStarted", again
    assert calls_since(localcloud, before)["StartInstanceRefresh"] == 1
    # a newer version: the instances no longer match, a refresh is needed
    boto3.client("ec2").create_launch_template_version(
        LaunchTemplateName=f"{name}-lt", SourceVersion="2",
        LaunchTemplateData={"InstanceType": "t3.small"})
    (newer,), _ = run_steps(tmp_path, {"args": {**args, "desired_configuration": desired(name, "3")}})
    assert newer["changed"] is True and newer["status"] == "Successful" and versions(name) == {"3"}


def test_check_mode_starts_nothing(localcloud: str, tmp_path: Path) -> None:
    name = new_group(2)
    before = group_instances(name)
    calls_before = calls(localcloud, "autoscaling")
    (result,), _ = run_steps(tmp_path, {"check": True, "args": {
        "name": name, "desired_configuration": desired(name)}})
    assert result["changed"] is True and not result.get("failed"), result
    assert "StartInstanceRefresh" not in calls_since(localcloud, calls_before)
    assert refreshes(name) == [] and group_instances(name) == before


def test_cancel(localcloud: str, tmp_path: Path) -> None:
    name = new_group(2)
    cancel = {"name": name, "state": "cancelled"}
    nothing, started, checked, cancelled, again = run_steps(
        tmp_path, {"args": cancel},
        {"args": {"name": name, "desired_configuration": desired(name), "wait": False,
                  "preferences": {"instance_warmup": 6000}}},
        {"args": cancel, "check": True}, {"args": cancel}, {"args": cancel})[0]
    assert nothing["changed"] is False  # nothing was running
    assert started["changed"] is True
    assert checked["changed"] is True  # check mode: would cancel ...
    assert cancelled["changed"] is True and cancelled["status"] == "Cancelled", cancelled
    assert again["changed"] is False
    (refresh,) = refreshes(name)  # ... and only the real run did
    assert refresh["Status"] == "Cancelled" and refresh["InstanceRefreshId"] == started["refresh_id"]


def test_rollback(localcloud: str, tmp_path: Path) -> None:
    name = new_group(2)
    started, rolled = run_steps(
        tmp_path, {"args": {"name": name, "desired_configuration": desired(name), "wait": False,
                            "preferences": {"instance_warmup": 300}}},
        {"args": {"name": name, "state": "rolled_back"}})[0]
    assert started["changed"] is True
    assert rolled["changed"] is True and rolled["status"] == "RollbackSuccessful", rolled
    assert refreshes(name)[0]["Status"] == "RollbackSuccessful" and versions(name) == {"1"}


def test_missing_group(localcloud: str, tmp_path: Path) -> None:
    missing = f"nope-{uuid.uuid4().hex[:6]}"
    (result,), _ = run_steps(tmp_path, {"args": {"name": missing}})
    assert result["failed"] is True
    assert f"Auto Scaling group '{missing}' not found" in result["msg"]


def test_bad_preferences_fail_before_any_call(localcloud: str, tmp_path: Path) -> None:
    name = new_group(2)
    before = calls(localcloud, "autoscaling")
    (result,), _ = run_steps(tmp_path, {"args": {
        "name": name, "desired_configuration": desired(name),
        "preferences": {"checkpoint_percentages": [50]}}})
    assert result["failed"] is True
    assert "checkpoint_percentages must end with 100" in result["msg"]
    assert calls_since(localcloud, before) == {}  # not even a describe
    assert refreshes(name) == []
