"""asg_refresh: pure helpers and the module's behaviour against a scripted Auto Scaling fake.

The local-cloud (state machine) tests live in test_asg_refresh_localcloud.py.
"""
from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import pytest
from botocore.exceptions import ClientError

from ansible_collections.autobuy.guard.plugins.module_utils import autobuy_aws
from ansible_collections.autobuy.guard.plugins.module_utils.instance_refresh import progress_line
from ansible_collections.autobuy.guard.plugins.modules import asg_refresh as m
from plugin_harness import ModuleFailed, run_module  # type: ignore[import-not-found]

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


# --------------------------------------------------------------------------- pure helpers

def test_every_preference_is_mapped() -> None:
    prefs = m.build_preferences({
        "min_healthy_percentage": 90, "max_healthy_percentage": 110, "instance_warmup": 300,
        "checkpoint_percentages": [50, 100], "checkpoint_delay": 60, "skip_matching": True,
        "auto_rollback": True, "alarm_specification": ["a5xx"], "scale_in_protected_instances": "Wait",
        "standby_instances": "Ignore", "bake_time": 30,
    })
    assert prefs == {
        "MinHealthyPercentage": 90, "MaxHealthyPercentage": 110, "InstanceWarmup": 300,
        "CheckpointPercentages": [50, 100], "CheckpointDelay": 60, "SkipMatching": True,
        "AutoRollback": True, "AlarmSpecification": {"Alarms": ["a5xx"]},
        "ScaleInProtectedInstances": "Wait", "StandbyInstances": "Ignore", "BakeTime": 30,
    }
    assert m.build_preferences({"skip_matching": False, "instance_warmup": None}) == {"SkipMatching": False}


@pytest.mark.parametrize(("prefs", "message"), [
    ({"MinHealthyPercentage": 101}, "min_healthy_percentage must be 0-100"),
    ({"MaxHealthyPercentage": 99}, "max_healthy_percentage must be 100-200"),
    ({"MinHealthyPercentage": 0, "MaxHealthyPercentage": 150}, "must be <= 100"),
    ({"CheckpointPercentages": [60, 30, 100]}, "must ascend"),
    ({"CheckpointPercentages": [30, 60]}, "must end with 100"),
    ({"InstanceWarmup": -1}, "InstanceWarmup must be >= 0"),
])
def test_bad_preferences_are_named(prefs: dict[str, Any], message: str) -> None:
    with pytest.raises(m.RefreshError, match=message):
        m.validate_preferences(prefs)


def test_desired_configuration() -> None:
    assert m.build_desired(None) == {}
    assert m.build_desired({"launch_template": {"name": "lt", "version": "$Latest"}}) == {
        "LaunchTemplate": {"LaunchTemplateName": "lt", "Version": "$Latest"}}
    assert m.build_desired({"launch_template": {"id": "lt-1", "version": None}}) == {
        "LaunchTemplate": {"LaunchTemplateId": "lt-1", "Version": "$Default"}}
    with pytest.raises(m.RefreshError, match="exactly one of id or name"):
        m.build_desired({"launch_template": {"id": "lt-1", "name": "lt"}})


def test_same_configuration_compares_only_what_was_asked() -> None:
    running = {"Strategy": "Rolling", "Preferences": {"MinHealthyPercentage": 90, "InstanceWarmup": 10},
               "DesiredConfiguration": {"LaunchTemplate": {"LaunchTemplateName": "lt", "Version": "3"}}}
    assert m.same_configuration(running, "Rolling", {"MinHealthyPercentage": 90}, {})
    assert not m.same_configuration(running, "Rolling", {"MinHealthyPercentage": 50}, {})
    assert not m.same_configuration(running, "ReplaceRootVolume", {}, {})
    assert m.same_configuration(running, "Rolling", {}, {"LaunchTemplate": {"LaunchTemplateName": "lt", "Version": "3"}})
    assert not m.same_configuration(running, "Rolling", {}, {"LaunchTemplate": {"LaunchTemplateName": "lt", "Version": "4"}})
    assert not m.same_configuration({"Strategy": "Rolling"}, "Rolling", {}, {"LaunchTemplate": {"LaunchTemplateName": "lt"}})


def test_summarise_and_outcomes() -> None:
    refresh = {"InstanceRefreshId": "r1", "Status": "RollbackSuccessful", "StatusReason": "unhealthy",
               "PercentageComplete": 40, "InstancesToUpdate": 2, "StartTime": T0,
               "EndTime": T0 + timedelta(seconds=75), "RollbackDetails": {"RollbackReason": "x"}}
    s = m.summarise(refresh)
    assert s["duration"] == 75.0 and s["percentage_complete"] == 40 and s["rollback_details"]
    assert m.outcome_error("g", "started", s) == "instance refresh r1 of g ended RollbackSuccessful: unhealthy"
    assert m.outcome_error("g", "rolled_back", s) is None
    assert m.outcome_error("g", "started", {**s, "status": "InProgress"}) is None
    assert "AWS gave no reason" in m.outcome_error("g", "started", {**s, "status": "Failed", "status_reason": ""})
    assert progress_line("g", s).startswith("g: refresh r1 RollbackSuccessful, 40% complete, 2 instance(s)")


# --------------------------------------------------------------------------- scripted fake

def client_error(code: str, op: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code}!"}}, op)


class FakeAutoScaling:
    """One group; a started refresh walks through ``script`` one status per describe."""

    def __init__(self, script: list[tuple[str, int, int, str]], instances: Optional[list[dict[str, Any]]] = None) -> None:
        self.script = list(script)
        self.refreshes: list[dict[str, Any]] = []
        self.started: list[dict[str, Any]] = []
        self.cancelled = 0
        self.rolled_back = 0
        self.instances = instances or []

    def describe_auto_scaling_groups(self, AutoScalingGroupNames: list[str]) -> dict[str, Any]:
        if AutoScalingGroupNames != ["web"]:
            return {"AutoScalingGroups": []}
        return {"AutoScalingGroups": [{"AutoScalingGroupName": "web", "Instances": self.instances,
                                       "LaunchTemplate": {"LaunchTemplateName": "lt", "Version": "$Latest"}}]}

    def _advance(self) -> None:
        for refresh in self.refreshes:
            if refresh["Status"] not in m.TERMINAL and self.script:
                status, pct, todo, reason = self.script.pop(0)
                refresh.update(Status=status, PercentageComplete=pct, InstancesToUpdate=todo, StatusReason=reason)
                if status in m.TERMINAL:
                    refresh["EndTime"] = refresh["StartTime"] + timedelta(seconds=30)

    def describe_instance_refreshes(self, AutoScalingGroupName: str, InstanceRefreshIds: Optional[list[str]] = None) -> dict[str, Any]:
        self._advance()
        found = [dict(r) for r in reversed(self.refreshes)
                 if not InstanceRefreshIds or r["InstanceRefreshId"] in InstanceRefreshIds]
        return {"InstanceRefreshes": found}

    def start_instance_refresh(self, **kwargs: Any) -> dict[str, Any]:
        if any(r["Status"] in m.ACTIVE for r in self.refreshes):
            raise client_error("InstanceRefreshInProgress", "StartInstanceRefresh")
        self.started.append(kwargs)
        refresh = {"InstanceRefreshId": f"r{len(self.refreshes) + 1}", "AutoScalingGroupName": "web",
                   "Status": "Pending", "StartTime": T0, "Strategy": kwargs["Strategy"],
                   "Preferences": kwargs.get("Preferences", {}),
                   "DesiredConfiguration": kwargs.get("DesiredConfiguration", {}),
                   "PercentageComplete": 0, "InstancesToUpdate": 3}
        self.refreshes.append(refresh)
        return {"InstanceRefreshId": refresh["InstanceRefreshId"]}

    def _active(self, op: str) -> dict[str, Any]:
        active = next((r for r in self.refreshes if r["Status"] in m.ACTIVE), None)
        if active is None:
            raise client_error("ActiveInstanceRefreshNotFound", op)
        return active

    def cancel_instance_refresh(self, AutoScalingGroupName: str) -> dict[str, Any]:
        active = self._active("CancelInstanceRefresh")
        self.cancelled += 1
        active["Status"] = "Cancelling"
        return {"InstanceRefreshId": active["InstanceRefreshId"]}

    def rollback_instance_refresh(self, AutoScalingGroupName: str) -> dict[str, Any]:
        active = self._active("RollbackInstanceRefresh")
        self.rolled_back += 1
        active["Status"] = "RollbackInProgress"
        return {"InstanceRefreshId": active["InstanceRefreshId"]}


class FakeEc2:
    def describe_launch_templates(self, **kwargs: Any) -> dict[str, Any]:
        return {"LaunchTemplates": [{"LaunchTemplateId": "lt-1", "LaunchTemplateName": "lt",
                                     "DefaultVersionNumber": 1, "LatestVersionNumber": 2}]}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Any:
    holder: dict[str, Any] = {}

    def install(script: list[tuple[str, int, int, str]], **kwargs: Any) -> FakeAutoScaling:
        holder["asg"] = FakeAutoScaling(script, **kwargs)
        return holder["asg"]

    def clients(module: Any, service: str) -> Any:
        return holder["asg"] if service == "autoscaling" else FakeEc2()

    monkeypatch.setattr(m, "module_client", clients)
    return install


def run(args: dict[str, Any], monkeypatch: pytest.MonkeyPatch, check: bool = False) -> dict[str, Any]:
    return run_module(m, {"name": "web", "poll_interval": 1, **args}, check_mode=check, monkeypatch=monkeypatch)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Polls do not really sleep (the clock still runs, so timeouts are real)."""
    monkeypatch.setattr(m, "wait_until", functools.partial(autobuy_aws.wait_until, sleep=lambda s: None))


SUCCESS = [("InProgress", 0, 3, ""), ("InProgress", 33, 2, ""), ("InProgress", 33, 2, ""),
           ("InProgress", 66, 1, ""), ("Successful", 100, 0, "")]


def test_starts_and_follows_to_success(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    asg = fake(SUCCESS)
    result = run({"preferences": {"min_healthy_percentage": 90, "instance_warmup": 5},
                  "desired_configuration": {"launch_template": {"name": "lt", "version": "$Latest"}}}, monkeypatch)
    assert result["changed"] is True and result["status"] == "Successful"
    assert result["percentage_complete"] == 100 and result["instances_to_update"] == 0
    assert result["duration"] == 30.0
    assert [p["percentage_complete"] for p in result["progress"]] == [33, 66, 100]  # changes only
    assert asg.started == [{"AutoScalingGroupName": "web", "Strategy": "Rolling",
                            "Preferences": {"MinHealthyPercentage": 90, "InstanceWarmup": 5},
                            "DesiredConfiguration": {"LaunchTemplate": {"LaunchTemplateName": "lt", "Version": "$Latest"}}}]


def test_running_refresh_with_same_configuration_is_followed(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    asg = fake(SUCCESS)
    first = run({"wait": False, "preferences": {"instance_warmup": 5}}, monkeypatch)
    assert first["changed"] is True
    second = run({"preferences": {"instance_warmup": 5}}, monkeypatch)
    assert second["changed"] is False and second["followed"] is True
    assert second["refresh_id"] == first["refresh_id"] and second["status"] == "Successful"
    assert len(asg.started) == 1


def test_running_refresh_with_other_configuration_fails(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fake(SUCCESS)
    run({"wait": False, "preferences": {"instance_warmup": 5}}, monkeypatch)
    with pytest.raises(ModuleFailed, match="with another configuration; cancel it first"):
        run({"preferences": {"instance_warmup": 60}}, monkeypatch)


@pytest.mark.parametrize(("final", "reason"), [
    ("Failed", "Instance i-1 failed to become healthy"),
    ("RollbackSuccessful", "Rolled back: instance i-2 unhealthy"),
    ("Cancelled", "Cancelled by user"),
])
def test_bad_endings_fail_with_the_reason(fake: Any, monkeypatch: pytest.MonkeyPatch, final: str, reason: str) -> None:
    fake([("InProgress", 33, 2, ""), (final, 33, 2, reason)])
    with pytest.raises(ModuleFailed) as failed:
        run({}, monkeypatch)
    result = failed.value.result
    assert result["msg"] == f"instance refresh r1 of web ended {final}: {reason}"
    assert result["status"] == final and result["status_reason"] == reason and result["changed"] is True


def test_timeout_fails_and_says_it_keeps_running(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fake([("InProgress", 33, 2, "")] * 50)
    with pytest.raises(ModuleFailed) as failed:
        run({"timeout": 0}, monkeypatch)
    assert "timed out after 0s" in failed.value.result["msg"] and "still InProgress at 33%" in failed.value.result["msg"]


def test_skip_matching_noop(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    instances = [{"InstanceId": f"i-{n}", "LaunchTemplate": {"LaunchTemplateId": "lt-1", "Version": "2"}} for n in range(3)]
    asg = fake(SUCCESS, instances=instances)
    result = run({"preferences": {"skip_matching": True}}, monkeypatch)
    assert result["changed"] is False and result["status"] == "NotStarted" and asg.started == []
    # one instance on an older version: a refresh is needed
    instances[0]["LaunchTemplate"]["Version"] = "1"
    assert run({"preferences": {"skip_matching": True}}, monkeypatch)["changed"] is True


def test_check_mode_starts_nothing(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    asg = fake(SUCCESS)
    result = run({}, monkeypatch, check=True)
    assert result["changed"] is True and asg.started == []


def test_cancel(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    asg = fake([("InProgress", 33, 2, "")] * 3 + [("Cancelled", 33, 2, "Cancelled by user")])
    assert run({"state": "cancelled"}, monkeypatch)["changed"] is False  # nothing running
    run({"wait": False}, monkeypatch)
    assert run({"state": "cancelled"}, monkeypatch, check=True)["changed"] is True and asg.cancelled == 0
    result = run({"state": "cancelled"}, monkeypatch)
    assert result["changed"] is True and result["status"] == "Cancelled" and asg.cancelled == 1


def test_rollback(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    asg = fake([("InProgress", 33, 2, "")] * 2 + [("RollbackSuccessful", 0, 0, "rolled back by user")])
    run({"wait": False}, monkeypatch)
    result = run({"state": "rolled_back"}, monkeypatch)
    assert result["changed"] is True and result["status"] == "RollbackSuccessful" and asg.rolled_back == 1


def test_missing_group(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fake(SUCCESS)
    with pytest.raises(ModuleFailed, match="Auto Scaling group 'nope' not found"):
        run({"name": "nope"}, monkeypatch)


def test_bad_preferences_fail_before_any_call(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    asg = fake(SUCCESS)
    with pytest.raises(ModuleFailed, match="checkpoint_percentages must end with 100"):
        run({"preferences": {"checkpoint_percentages": [50]}}, monkeypatch)
    assert asg.started == []


def test_settling_refresh_that_never_settles_times_out_cleanly(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    asg = fake([("Cancelling", 33, 2, "")] * 100)
    asg.refreshes.append({"InstanceRefreshId": "r0", "Status": "Cancelling", "StartTime": T0,
                          "Strategy": "Rolling", "PercentageComplete": 33, "InstancesToUpdate": 2})
    with pytest.raises(ModuleFailed) as failed:
        run({"timeout": 0}, monkeypatch)
    assert "timed out after 0s waiting for refresh r0 to settle" in failed.value.result["msg"]
    assert failed.value.result["status"] == "Cancelling" and asg.started == []
