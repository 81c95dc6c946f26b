#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start, follow, cancel or roll back an Auto Scaling group instance refresh."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: asg_refresh
short_description: Start an Auto Scaling instance refresh and follow it to the end
description:
  - Starts an instance refresh of an Auto Scaling group with every preference the API
    has (healthy percentages, warm-up, checkpoints, skip matching, auto rollback, alarms,
    scale-in-protected and standby handling) and an optional desired configuration.
  - With O(wait=true) (the default) it follows the refresh to a terminal state. The
    collection's C(autobuy.guard.asg_refresh) action plugin (used with the module unless
    the task runs C(async)) prints progress lines (status, percentage complete, instances
    to update) while the task runs; both return them in RV(progress). The poll loop,
    statuses and progress line are those of the collection's C(instance_refresh)
    module_utils, shared by the module and the action plugin.
  - Idempotent. A refresh already running with the same configuration is followed, not
    restarted (C(changed=false)). With O(preferences.skip_matching=true), when every
    instance already runs the desired launch template version, no refresh is started
    and C(changed=false).
  - A refresh that ends C(Failed), C(Cancelled), C(RollbackSuccessful) or
    C(RollbackFailed) fails the task with the AWS status reason (except the outcome
    asked for by O(state=cancelled) or O(state=rolled_back)).
version_added: "1.0.0"
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  name:
    description: Name of the Auto Scaling group.
    type: str
    required: true
    aliases: [group_name]
  state:
    description:
      - C(started) starts a refresh (or follows the running one).
      - C(cancelled) cancels the running refresh; C(rolled_back) rolls it back.
        Both do nothing when no refresh is running.
    type: str
    choices: [started, cancelled, rolled_back]
    default: started
  refresh_id:
    description:
      - Follow this refresh instead of starting, cancelling or rolling back one
        (for example one started earlier with O(wait=false)). The outcome is judged by O(state).
    type: str
  strategy:
    description: Refresh strategy.
    type: str
    choices: [Rolling, ReplaceRootVolume]
    default: Rolling
  preferences:
    description: Refresh preferences; unset ones keep the AWS defaults.
    type: dict
    suboptions:
      min_healthy_percentage:
        description: Percentage of capacity that must stay healthy (0-100).
        type: int
      max_healthy_percentage:
        description: Upper bound of capacity during the refresh (100-200).
        type: int
      instance_warmup:
        description: Seconds before a new instance counts as healthy.
        type: int
      checkpoint_percentages:
        description: Percentages at which the refresh pauses (ascending, last one 100).
        type: list
        elements: int
      checkpoint_delay:
        description: Seconds to wait at each checkpoint.
        type: int
      skip_matching:
        description: Skip instances that already run the desired configuration.
        type: bool
      auto_rollback:
        description: Roll back when the refresh fails.
        type: bool
      alarm_specification:
        description: CloudWatch alarm names that fail the refresh when they go to ALARM.
        type: list
        elements: str
      scale_in_protected_instances:
        description: What to do with scale-in-protected instances.
        type: str
        choices: [Refresh, Ignore, Wait]
      standby_instances:
        description: What to do with instances in Standby.
        type: str
        choices: [Terminate, Ignore, Wait]
      bake_time:
        description: Seconds to wait after the last replacement before the refresh succeeds.
        type: int
  desired_configuration:
    description: The configuration the group moves to; default is the group's own launch template.
    type: dict
    suboptions:
      launch_template:
        description: Launch template by O(desired_configuration.launch_template.id) or O(desired_configuration.launch_template.name).
        type: dict
        suboptions:
          id:
            description: Launch template id.
            type: str
          name:
            description: Launch template name.
            type: str
          version:
            description: Version number, C($Latest) or C($Default).
            type: str
            default: $Default
  wait:
    description: Follow the refresh until it ends (or O(timeout) passes).
    type: bool
    default: true
  timeout:
    description: Seconds to wait with O(wait=true). The refresh keeps running after a timeout.
    type: int
    default: 3600
  poll_interval:
    description: Seconds between status checks.
    type: int
    default: 15
extends_documentation_fragment:
  - autobuy.guard.autobuy_aws
notes:
  - Supports check mode; nothing is started, cancelled or rolled back.
"""

EXAMPLES = r"""
- name: Roll the backend group onto the newest launch template version
  autobuy.guard.asg_refresh:
    name: taskapp-backend-asg
    strategy: Rolling
    desired_configuration:
      launch_template:
        name: taskapp-backend-lt
        version: $Latest
    preferences:
      min_healthy_percentage: 90
      instance_warmup: 300
      checkpoint_percentages: [50, 100]
      checkpoint_delay: 60
      skip_matching: true
      auto_rollback: true
      alarm_specification: [taskapp-alb-5xx]
    timeout: 3600
    poll_interval: 15
    region: eu-central-1
  register: refresh

- name: Start without waiting, follow later
  autobuy.guard.asg_refresh:
    name: taskapp-backend-asg
    wait: false
  register: started

- name: Follow the refresh started above
  autobuy.guard.asg_refresh:
    name: taskapp-backend-asg
    refresh_id: "{{ started.refresh_id }}"

- name: Cancel whatever refresh is running
  autobuy.guard.asg_refresh:
    name: taskapp-backend-asg
    state: cancelled

- name: Roll back the running refresh
  autobuy.guard.asg_refresh:
    name: taskapp-backend-asg
    state: rolled_back
"""

RETURN = r"""
refresh_id:
  description: Id of the refresh started, followed, cancelled or rolled back; empty when there was none.
  returned: always
  type: str
status:
  description: Last status seen (C(Pending), C(InProgress), C(Successful), C(Failed), C(Cancelled), C(RollbackSuccessful), ...), or C(NotStarted).
  returned: always
  type: str
status_reason:
  description: AWS status reason (why it failed, was cancelled or rolled back).
  returned: always
  type: str
percentage_complete:
  description: Percentage of the group refreshed.
  returned: always
  type: int
instances_to_update:
  description: Instances still to replace.
  returned: always
  type: int
duration:
  description: Seconds from the refresh's start to its end (or to now while it runs).
  returned: always
  type: float
followed:
  description: True when an already running refresh was followed instead of a new one started.
  returned: always
  type: bool
progress:
  description: Status changes seen while waiting, oldest first.
  returned: always
  type: list
  elements: dict
  sample: [{"status": "InProgress", "percentage_complete": 33, "instances_to_update": 2, "elapsed": 12.0}]
rollback_details:
  description: AWS RollbackDetails (reason, start time, progress) when the refresh was rolled back.
  returned: when rolled back
  type: dict
"""

from typing import Any, Optional  # noqa: E402

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import (  # noqa: E402
    WaitTimeout,
    aws_retry,
    error_code,
    error_message,
    wait_until,
)
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import AutobuyAWSModule  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.instance_refresh import (  # noqa: E402
    ACTIVE,
    FOLLOWABLE,
    TERMINAL,
    FollowTimeout,
    follow as follow_refresh,
    summarise,
)
#: The terminal statuses each state is happy with.
SUCCESS = {
    "started": frozenset({"Successful"}),
    "cancelled": frozenset({"Cancelled"}),
    "rolled_back": frozenset({"RollbackSuccessful"}),
}
PREFERENCE_KEYS = {
    "min_healthy_percentage": "MinHealthyPercentage",
    "max_healthy_percentage": "MaxHealthyPercentage",
    "instance_warmup": "InstanceWarmup",
    "checkpoint_percentages": "CheckpointPercentages",
    "checkpoint_delay": "CheckpointDelay",
    "skip_matching": "SkipMatching",
    "auto_rollback": "AutoRollback",
    "scale_in_protected_instances": "ScaleInProtectedInstances",
    "standby_instances": "StandbyInstances",
    "bake_time": "BakeTime",
}

retry = aws_retry(extra_codes=("ResourceContention",))


class RefreshError(Exception):
    """A failure to report with fail_json; ``result`` carries what we know."""

    def __init__(self, message: str, result: Optional[dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.result = result or {}


# --------------------------------------------------------------------------- pure helpers

def build_preferences(prefs: Optional[dict[str, Any]]) -> dict[str, Any]:
    """API Preferences from the module's snake_case dict (unset values left out)."""
    prefs = prefs or {}
    out = {api: prefs[key] for key, api in PREFERENCE_KEYS.items() if prefs.get(key) is not None}
    if prefs.get("alarm_specification"):
        out["AlarmSpecification"] = {"Alarms": list(prefs["alarm_specification"])}
    return out


def validate_preferences(prefs: dict[str, Any]) -> None:
    """Raise RefreshError for values AWS would reject, naming the preference."""
    mn, mx = prefs.get("MinHealthyPercentage"), prefs.get("MaxHealthyPercentage")
    if mn is not None and not 0 <= mn <= 100:
        raise RefreshError(f"preferences.min_healthy_percentage must be 0-100, got {mn}")
    if mx is not None and not 100 <= mx <= 200:
        raise RefreshError(f"preferences.max_healthy_percentage must be 100-200, got {mx}")
    if mn is not None and mx is not None and mx - mn > 100:
        raise RefreshError("preferences.max_healthy_percentage - min_healthy_percentage must be <= 100")
    points = prefs.get("CheckpointPercentages")
    if points:
        if points != sorted(points) or len(set(points)) != len(points) or not all(1 <= p <= 100 for p in points):
            raise RefreshError(f"preferences.checkpoint_percentages must ascend within 1-100, got {points}")
        if points[-1] != 100:
            raise RefreshError("preferences.checkpoint_percentages must end with 100")
    for key in ("InstanceWarmup", "CheckpointDelay", "BakeTime"):
        if prefs.get(key) is not None and prefs[key] < 0:
            raise RefreshError(f"preferences value {key} must be >= 0, got {prefs[key]}")


def build_desired(desired: Optional[dict[str, Any]]) -> dict[str, Any]:
    """API DesiredConfiguration from the module's dict."""
    lt = (desired or {}).get("launch_template")
    if not lt:
        return {}
    if bool(lt.get("id")) == bool(lt.get("name")):
        raise RefreshError("desired_configuration.launch_template needs exactly one of id or name")
    spec = {"LaunchTemplateId": lt["id"]} if lt.get("id") else {"LaunchTemplateName": lt["name"]}
    spec["Version"] = str(lt.get("version") or "$Default")
    return {"LaunchTemplate": spec}


def same_configuration(refresh: dict[str, Any], strategy: str, prefs: dict[str, Any],
                       desired: dict[str, Any]) -> bool:
    """Does a running refresh match what was asked (only asked-for values compared)?"""
    if refresh.get("Strategy", "Rolling") != strategy:
        return False
    theirs = refresh.get("Preferences", {})
    if any(theirs.get(k) != v for k, v in prefs.items()):
        return False
    if desired:
        want = desired["LaunchTemplate"]
        have = refresh.get("DesiredConfiguration", {}).get("LaunchTemplate", {})
        for key in ("LaunchTemplateId", "LaunchTemplateName", "Version"):
            if key in want and have.get(key) not in (None, want[key]):
                return False
        if not have:
            return False
    return True


def outcome_error(group: str, state: str, summary: dict[str, Any]) -> Optional[str]:
    """The failure message for a terminal status the state did not ask for, else None."""
    status = summary["status"]
    if status not in TERMINAL or status in SUCCESS[state]:
        return None
    reason = summary.get("status_reason") or "AWS gave no reason"
    return f"instance refresh {summary['refresh_id']} of {group} ended {status}: {reason}"


def resolve_version(version: Optional[str], template: dict[str, Any]) -> Optional[str]:
    if version in (None, "$Default"):
        return str(template.get("DefaultVersionNumber"))
    if version == "$Latest":
        return str(template.get("LatestVersionNumber"))
    return str(version)


# --------------------------------------------------------------------------- AWS side

class Refresher:
    """The Auto Scaling / EC2 calls the module makes, each retried on throttling."""

    def __init__(self, autoscaling: Any, ec2: Any, group: str) -> None:
        self.asg = autoscaling
        self.ec2 = ec2
        self.group = group

    def describe_group(self) -> dict[str, Any]:
        groups = retry(self.asg.describe_auto_scaling_groups)(AutoScalingGroupNames=[self.group])
        if not groups.get("AutoScalingGroups"):
            raise RefreshError(f"Auto Scaling group {self.group!r} not found")
        return groups["AutoScalingGroups"][0]

    def refreshes(self, refresh_id: Optional[str] = None) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"AutoScalingGroupName": self.group}
        if refresh_id:
            kwargs["InstanceRefreshIds"] = [refresh_id]
        return retry(self.asg.describe_instance_refreshes)(**kwargs).get("InstanceRefreshes", [])

    def get(self, refresh_id: str) -> dict[str, Any]:
        found = self.refreshes(refresh_id)
        if not found:
            raise RefreshError(f"instance refresh {refresh_id!r} of {self.group} not found")
        return found[0]

    def active(self) -> Optional[dict[str, Any]]:
        return next((r for r in self.refreshes() if r.get("Status") in ACTIVE), None)

    def start(self, strategy: str, prefs: dict[str, Any], desired: dict[str, Any]) -> str:
        kwargs: dict[str, Any] = {"AutoScalingGroupName": self.group, "Strategy": strategy}
        if prefs:
            kwargs["Preferences"] = prefs
        if desired:
            kwargs["DesiredConfiguration"] = desired
        return retry(self.asg.start_instance_refresh)(**kwargs)["InstanceRefreshId"]

    def cancel(self) -> str:
        return retry(self.asg.cancel_instance_refresh)(AutoScalingGroupName=self.group)["InstanceRefreshId"]

    def rollback(self) -> str:
        return retry(self.asg.rollback_instance_refresh)(AutoScalingGroupName=self.group)["InstanceRefreshId"]

    def template(self, spec: dict[str, Any]) -> Optional[dict[str, Any]]:
        kwargs = ({"LaunchTemplateIds": [spec["LaunchTemplateId"]]} if spec.get("LaunchTemplateId")
                  else {"LaunchTemplateNames": [spec["LaunchTemplateName"]]})
        found = retry(self.ec2.describe_launch_templates)(**kwargs).get("LaunchTemplates", [])
        return found[0] if found else None

    def nothing_to_replace(self, group: dict[str, Any], desired: dict[str, Any]) -> bool:
        """True when every instance already runs the desired launch template version."""
        wanted = desired.get("LaunchTemplate") or group.get("LaunchTemplate")
        instances = group.get("Instances", [])
        if not wanted or not instances:
            return False
        template = self.template(wanted)
        if template is None:
            raise RefreshError(f"launch template {wanted} not found")
        version = resolve_version(wanted.get("Version"), template)
        for instance in instances:
            lt = instance.get("LaunchTemplate")
            if not lt or lt.get("LaunchTemplateId") != template["LaunchTemplateId"]:
                return False
            if resolve_version(lt.get("Version"), template) != version:
                return False
        return True


# --------------------------------------------------------------------------- behaviour

def follow(module: AutobuyAWSModule, refresher: Refresher, refresh_id: str) -> dict[str, Any]:
    """Wait (poll) until the refresh is terminal; the progress list records each change."""
    p = module.params
    try:
        return follow_refresh(lambda: summarise(refresher.get(refresh_id)), refresh_id=refresh_id,
                              group=refresher.group, timeout=p["timeout"], interval=p["poll_interval"],
                              wait=wait_until)
    except FollowTimeout as exc:
        raise RefreshError(str(exc), exc.result) from exc


def run_started(module: AutobuyAWSModule, refresher: Refresher) -> dict[str, Any]:
    p = module.params
    prefs = build_preferences(p["preferences"])
    validate_preferences(prefs)
    desired = build_desired(p["desired_configuration"])
    group = refresher.describe_group()
    active = refresher.active()
    if active and active["Status"] not in FOLLOWABLE:
        if module.check_mode:
            return {**summarise(active), "changed": True, "followed": False}
        # Cancelling / rolling back: let it settle before starting anew.
        wait_until(lambda: refresher.get(active["InstanceRefreshId"]),
                   lambda r: r.get("Status") in TERMINAL, timeout=p["timeout"],
                   interval=p["poll_interval"], what=f"refresh {active['InstanceRefreshId']} to settle")
        active = None
    if active:
        if not same_configuration(active, p["strategy"], prefs, desired):
            raise RefreshError(
                f"instance refresh {active['InstanceRefreshId']} of {refresher.group} is "
                f"{active['Status']} with another configuration; cancel it first (state: cancelled)",
                summarise(active))
        return {**summarise(active), "changed": False, "followed": True}
    if prefs.get("SkipMatching") and refresher.nothing_to_replace(group, desired):
        return {**summarise({}), "status": "NotStarted", "changed": False, "followed": False,
                "status_reason": "every instance already runs the desired configuration"}
    if module.check_mode:
        return {**summarise({}), "status": "Pending", "changed": True, "followed": False}
    refresh_id = refresher.start(p["strategy"], prefs, desired)
    return {**summarise(refresher.get(refresh_id)), "changed": True, "followed": False}


def run_stop(module: AutobuyAWSModule, refresher: Refresher, state: str) -> dict[str, Any]:
    refresher.describe_group()
    active = refresher.active()
    wanted_status = "Cancelling" if state == "cancelled" else "RollbackInProgress"
    if not active or active["Status"] in SUCCESS[state] or active["Status"] == wanted_status:
        result = summarise(active or {})
        return {**result, "changed": False, "followed": bool(active)}
    if module.check_mode:
        return {**summarise(active), "changed": True, "followed": False}
    try:
        refresh_id = refresher.cancel() if state == "cancelled" else refresher.rollback()
    except Exception as exc:  # noqa: BLE001
        code = error_code(exc)
        if code == "ActiveInstanceRefreshNotFound":
            return {**summarise({}), "changed": False, "followed": False}
        if code == "IrreversibleInstanceRefresh":
            raise RefreshError(f"instance refresh of {refresher.group} cannot be rolled back: "
                               f"{error_message(exc)}", summarise(active)) from exc
        raise
    return {**summarise(refresher.get(refresh_id)), "changed": True, "followed": False}


def execute(module: AutobuyAWSModule, refresher: Refresher) -> dict[str, Any]:
    p = module.params
    if p["poll_interval"] < 1 or p["timeout"] < 0:
        raise RefreshError("poll_interval must be >= 1 and timeout >= 0")
    if p["refresh_id"]:
        result = {**summarise(refresher.get(p["refresh_id"])), "changed": False, "followed": True}
    elif p["state"] == "started":
        result = run_started(module, refresher)
    else:
        result = run_stop(module, refresher, p["state"])
    result.setdefault("progress", [])
    if p["wait"] and not module.check_mode and result["refresh_id"] and result["status"] not in TERMINAL:
        result = {**result, **follow(module, refresher, result["refresh_id"])}
    failure = outcome_error(refresher.group, p["state"], result)
    if failure:
        raise RefreshError(failure, result)
    return result


def argument_spec() -> dict[str, Any]:
    lt = dict(id=dict(type="str"), name=dict(type="str"), version=dict(type="str", default="$Default"))
    prefs = dict(
        min_healthy_percentage=dict(type="int"), max_healthy_percentage=dict(type="int"),
        instance_warmup=dict(type="int"), checkpoint_percentages=dict(type="list", elements="int"),
        checkpoint_delay=dict(type="int"), skip_matching=dict(type="bool"),
        auto_rollback=dict(type="bool"), alarm_specification=dict(type="list", elements="str"),
        scale_in_protected_instances=dict(type="str", choices=["Refresh", "Ignore", "Wait"]),
        standby_instances=dict(type="str", choices=["Terminate", "Ignore", "Wait"]),
        bake_time=dict(type="int"),
    )
    return dict(
        name=dict(type="str", required=True, aliases=["group_name"]),
        state=dict(type="str", choices=["started", "cancelled", "rolled_back"], default="started"),
        refresh_id=dict(type="str"),
        strategy=dict(type="str", choices=["Rolling", "ReplaceRootVolume"], default="Rolling"),
        preferences=dict(type="dict", options=prefs),
        desired_configuration=dict(type="dict", options=dict(
            launch_template=dict(type="dict", options=lt))),
        wait=dict(type="bool", default=True),
        timeout=dict(type="int", default=3600),
        poll_interval=dict(type="int", default=15),
    )


def main() -> None:
    module = AutobuyAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        refresher = Refresher(module.client("autoscaling"), module.client("ec2"),
                              module.params["name"])
        result = execute(module, refresher)
    except RefreshError as exc:
        module.fail_json(msg=str(exc), **{"changed": False, **exc.result})
    except WaitTimeout as exc:
        module.fail_json(msg=str(exc), changed=False, **summarise(exc.last or {}))
    except Exception as exc:  # noqa: BLE001 - botocore errors, reported with their AWS code
        module.fail_on_error(exc, "Auto Scaling call failed")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
