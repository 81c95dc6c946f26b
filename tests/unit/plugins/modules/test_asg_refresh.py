"""asg_refresh: pure helpers, and time-outs against a scripted Auto Scaling fake.

Every case the local cloud's refresh state machine can play (start and follow, follow a
running refresh, another configuration, bad endings, skip matching, check mode, cancel,
rollback, missing group, bad preferences) runs as users run it, in a playbook against the
local cloud: tests/integration/plugins/test_asg_refresh_playbook.py. What stays here is
what the local cloud cannot play: a refresh that never ends within the time-out.
"""
from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import pytest

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

class FakeAutoScaling:
    """One group; a started refresh walks through ``script`` one status per describe."""

    def __init__(self, script: list[tuple[str, int, int, str]]) -> None:
        self.script = list(script)
        self.refreshes: list[dict[str, Any]] = []
        self.started: list[dict[str, Any]] = []

    def describe_auto_scaling_groups(self, AutoScalingGroupNames: list[str]) -> dict[str, Any]:
        if AutoScalingGroupNames != ["web"]:
            return {"AutoScalingGroups": []}
        return {"AutoScalingGroups": [{"AutoScalingGroupName": "web", "Instances": [],
                                       "LaunchTemplate": {"LaunchTemplateName": "lt", "Version": "$Latest"}}]}

    def _advance(self) -> None:
        for refresh in self.refreshes:
            if refresh["Status"] not in m.TERMINAL and self.script:
                status, pct, todo, reason = self.script.pop(0)
                refresh.update(Status=status, PercentageComplete=pct, InstancesToUpdate=todo, StatusReason=reason)

    def describe_instance_refreshes(self, AutoScalingGroupName: str, InstanceRefreshIds: Optional[list[str]] = None) -> dict[str, Any]:
        self._advance()
        found = [dict(r) for r in reversed(self.refreshes)
                 if not InstanceRefreshIds or r["InstanceRefreshId"] in InstanceRefreshIds]
        return {"InstanceRefreshes": found}

    def start_instance_refresh(self, **kwargs: Any) -> dict[str, Any]:
        self.started.append(kwargs)
        refresh = {"InstanceRefreshId": f"r{len(self.refreshes) + 1}", "AutoScalingGroupName": "web",
                   "Status": "Pending", "StartTime": T0, "Strategy": kwargs["Strategy"],
                   "Preferences": kwargs.get("Preferences", {}),
                   "DesiredConfiguration": kwargs.get("DesiredConfiguration", {}),
                   "PercentageComplete": 0, "InstancesToUpdate": 3}
        self.refreshes.append(refresh)
        return {"InstanceRefreshId": refresh["InstanceRefreshId"]}


class NoCalls:
    """A client the time-out cases must not call."""

    def __init__(self, service: str) -> None:
        self.service = service

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected {self.service}.{name} call")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Any:
    holder: dict[str, Any] = {}

    def install(script: list[tuple[str, int, int, str]]) -> FakeAutoScaling:
        holder["asg"] = FakeAutoScaling(script)
        return holder["asg"]

    def clients(module: Any, service: str) -> Any:
        return holder["asg"] if service == "autoscaling" else NoCalls(service)

    monkeypatch.setattr(m.AutobuyAWSModule, "client", clients)
    return install


def run(args: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    return run_module(m, {"name": "web", "poll_interval": 1, **args}, monkeypatch=monkeypatch)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Polls do not really sleep (the clock still runs, so timeouts are real)."""
    monkeypatch.setattr(m, "wait_until", functools.partial(autobuy_aws.wait_until, sleep=lambda s: None))


def test_timeout_fails_and_says_it_keeps_running(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fake([("InProgress", 33, 2, "")] * 50)
    with pytest.raises(ModuleFailed) as failed:
        run({"timeout": 0}, monkeypatch)
    assert "timed out after 0s" in failed.value.result["msg"] and "still InProgress at 33%" in failed.value.result["msg"]


def test_settling_refresh_that_never_settles_times_out_cleanly(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    asg = fake([("Cancelling", 33, 2, "")] * 100)
    asg.refreshes.append({"InstanceRefreshId": "r0", "Status": "Cancelling", "StartTime": T0,
                          "Strategy": "Rolling", "PercentageComplete": 33, "InstancesToUpdate": 2})
    with pytest.raises(ModuleFailed) as failed:
        run({"timeout": 0}, monkeypatch)
    assert "timed out after 0s waiting for refresh r0 to settle" in failed.value.result["msg"]
    assert failed.value.result["status"] == "Cancelling" and asg.started == []
