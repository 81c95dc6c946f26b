"""Instance refresh for moto's Auto Scaling groups: a state machine that really replaces instances.

One ``Refresh`` per StartInstanceRefresh runs in a daemon thread of the server
process. It replaces the group's instances in batches through moto's EC2 and
Auto Scaling backends:

- batch size from ``MinHealthyPercentage`` (terminate, then launch) or, with
  ``MaxHealthyPercentage`` > 100, launch before terminate;
- each new instance must first pass the group's health checks — with ``HealthCheckType=ELB``,
  be ``healthy`` in every target group of the group, as AWS waits ("insufficient data to
  evaluate its health with Elastic Load Balancing") — then warms up for ``InstanceWarmup``
  seconds (default: the group's health check grace period) times ``LOCALCLOUD_TIME_SCALE``;
- an old instance leaves the group and its target groups first, and is terminated only
  after the target groups' deregistration delay (on the twin, what the balancer drains:
  :func:`localcloud.twin.balancer.drain_seconds`), so requests in flight finish, as on AWS;
- ``CheckpointPercentages`` pause for ``CheckpointDelay`` (scaled), ``BakeTime``
  bakes (scaled);
- ``SkipMatching`` leaves instances already on the desired launch template version;
- ``DesiredConfiguration`` launch template: new instances use it, the group is
  switched to it on success;
- failure (a new instance the group marks ``Unhealthy`` — on the twin, its target failed the
  balancer's checks past the grace period — named with the target health reason, or an
  ``AlarmSpecification`` alarm in ALARM) ends ``Failed``, or rolls back with
  ``AutoRollback``: the instances it launched are replaced by ones of the previous launch
  template version, and the group stays on that version;
- fault injection: the group tag ``localcloud:fail-refresh-after`` = N makes the
  (N+1)-th instance launched by the refresh never become healthy.

Every mutation of moto's models by a refresh happens under ``LOCK``.
"""
from __future__ import annotations

import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from moto.autoscaling.models import (
    ASG_NAME_TAG,
    AutoScalingBackend,
    FakeAutoScalingGroup,
    InstanceState,
)
from moto.autoscaling.exceptions import AutoscalingClientError, ValidationError
from moto.ec2.models.launch_templates import LaunchTemplate

from localcloud import settings

FAIL_TAG = "localcloud:fail-refresh-after"
LT_ATTR = "_localcloud_launch_template"
ACTIVE = frozenset({"Pending", "InProgress", "Baking", "Cancelling", "RollbackInProgress"})
TICK = 0.02
HEALTH_POLL = 0.5  # real seconds between looks at new instances' target health
LOCK = threading.RLock()


class InstanceRefreshInProgress(AutoscalingClientError):
    code = "InstanceRefreshInProgress"


class ActiveInstanceRefreshNotFound(AutoscalingClientError):
    code = "ActiveInstanceRefreshNotFound"


class IrreversibleInstanceRefresh(AutoscalingClientError):
    code = "IrreversibleInstanceRefresh"


class _Failed(Exception):
    """The refresh cannot go on; the message is the StatusReason."""


class _Stop(Exception):
    """Cancel or rollback was requested."""


@dataclass(frozen=True)
class LaunchSpec:
    """A launch template at one resolved version."""

    template: LaunchTemplate
    number: int

    @property
    def key(self) -> tuple[str, int]:
        return self.template.id, self.number

    def as_dict(self) -> dict[str, str]:
        return {"LaunchTemplateId": self.template.id,
                "LaunchTemplateName": self.template.name, "Version": str(self.number)}


def resolve(group: FakeAutoScalingGroup, spec: dict[str, Any] | None) -> LaunchSpec | None:
    """The launch template (id or name, version) of ``spec``, or the group's own."""
    ec2 = group.ec2_backend
    if spec:
        template_id, name = spec.get("LaunchTemplateId"), spec.get("LaunchTemplateName")
        if bool(template_id) == bool(name):
            raise ValidationError(
                "DesiredConfiguration.LaunchTemplate needs exactly one of "
                "LaunchTemplateId and LaunchTemplateName")
        template = (ec2.get_launch_template(template_id) if template_id
                    else ec2.get_launch_template_by_name(name))
        version = spec.get("Version") or "$Default"
    elif group.ec2_launch_template is not None:
        template, version = group.ec2_launch_template, group.launch_template_version
    else:
        return None
    return LaunchSpec(template, template.get_version(version).number)


def instance_spec(state: InstanceState) -> tuple[str, int] | None:
    """``(template id, version)`` the instance was launched with, when known."""
    return getattr(state, LT_ATTR, None)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _int(prefs: dict[str, Any], key: str, default: int) -> int:
    value = prefs.get(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"Preferences.{key} must be an integer, got {value!r}") from exc


def _bool(prefs: dict[str, Any], key: str) -> bool:
    value = prefs.get(key, False)
    return value is True or str(value).lower() == "true"


@dataclass
class Preferences:
    """RefreshPreferences with AWS's defaults, validated like AWS does."""

    min_healthy: int
    max_healthy: int
    warmup: int
    checkpoints: list[int]
    checkpoint_delay: int
    skip_matching: bool
    auto_rollback: bool
    scale_in_protected: str
    standby: str
    alarms: list[str]
    bake_time: int
    echo: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: dict[str, Any] | None, group: FakeAutoScalingGroup) -> Preferences:
        prefs = dict(raw or {})
        min_healthy = _int(prefs, "MinHealthyPercentage", 90)
        max_healthy = _int(prefs, "MaxHealthyPercentage", 100)
        grace = group.health_check_grace_period or 0
        warmup = _int(prefs, "InstanceWarmup", int(grace))
        checkpoints = [int(p) for p in prefs.get("CheckpointPercentages") or []]
        delay = _int(prefs, "CheckpointDelay", 3600)
        bake = _int(prefs, "BakeTime", 0)
        alarms = list((prefs.get("AlarmSpecification") or {}).get("Alarms") or [])
        _validate(min_healthy, max_healthy, checkpoints, warmup, delay, bake)
        scale_in = prefs.get("ScaleInProtectedInstances") or "Ignore"
        standby = prefs.get("StandbyInstances") or "Ignore"
        for key, value, allowed in (("ScaleInProtectedInstances", scale_in,
                                     ("Refresh", "Ignore", "Wait")),
                                    ("StandbyInstances", standby, ("Terminate", "Ignore", "Wait"))):
            if value not in allowed:
                raise ValidationError(f"Preferences.{key} must be one of {', '.join(allowed)}")
        echo = {
            "MinHealthyPercentage": min_healthy, "MaxHealthyPercentage": max_healthy,
            "InstanceWarmup": warmup, "CheckpointDelay": delay,
            "SkipMatching": _bool(prefs, "SkipMatching"),
            "AutoRollback": _bool(prefs, "AutoRollback"),
            "ScaleInProtectedInstances": scale_in, "StandbyInstances": standby,
            "BakeTime": bake,
        }
        if checkpoints:
            echo["CheckpointPercentages"] = checkpoints
        if alarms:
            echo["AlarmSpecification"] = {"Alarms": alarms}
        return cls(min_healthy, max_healthy, warmup, checkpoints, delay,
                   _bool(prefs, "SkipMatching"), _bool(prefs, "AutoRollback"), scale_in,
                   standby, alarms, bake, echo)


def _validate(min_healthy: int, max_healthy: int, checkpoints: list[int], *seconds: int) -> None:
    if not 0 <= min_healthy <= 100:
        raise ValidationError("MinHealthyPercentage must be between 0 and 100")
    if not 100 <= max_healthy <= 200:
        raise ValidationError("MaxHealthyPercentage must be between 100 and 200")
    if max_healthy - min_healthy > 100:
        raise ValidationError(
            "The difference between MaxHealthyPercentage and MinHealthyPercentage "
            "cannot exceed 100")
    if min_healthy == 100 and max_healthy == 100:
        raise ValidationError(
            "MaxHealthyPercentage must be greater than 100 when MinHealthyPercentage is 100")
    if any(not 1 <= p <= 100 for p in checkpoints) or checkpoints != sorted(set(checkpoints)):
        raise ValidationError(
            "CheckpointPercentages must be strictly increasing values between 1 and 100")
    if any(s < 0 for s in seconds):
        raise ValidationError("InstanceWarmup, CheckpointDelay and BakeTime must be >= 0")


def batch_size(capacity: int, prefs: Preferences) -> int:
    """Instances replaced at once, as AWS derives it from the healthy percentages."""
    min_in_service = math.ceil(capacity * prefs.min_healthy / 100)
    if prefs.max_healthy > 100:
        most = math.floor(capacity * prefs.max_healthy / 100)
        return max(1, most - min_in_service)
    return max(1, capacity - min_in_service)


class Refresh:
    """One instance refresh of one group; ``start()`` runs it in a thread."""

    def __init__(self, backend: AutoScalingBackend, group: FakeAutoScalingGroup,
                 strategy: str, prefs: Preferences, desired: dict[str, Any] | None) -> None:
        self.id = str(uuid.uuid4())
        self.backend = backend
        self.group = group
        self.strategy = strategy
        self.prefs = prefs
        self.desired = desired
        self.previous = resolve(group, None)
        self.target = resolve(group, (desired or {}).get("LaunchTemplate"))
        self.status = "Pending"
        self.reason = "Waiting for instance refresh to start."
        self.start_time = _now()
        self.end_time: datetime | None = None
        self.percentage = 0
        self.to_update = 0
        self.rollback: dict[str, Any] | None = None
        self.launched: list[str] = []
        self._request: str | None = None  # "cancel" | "rollback"
        self._scale = settings.time_scale()
        fail_after = {t["Key"]: t["Value"] for t in group.tags}.get(FAIL_TAG)
        self._fail_after = _fail_after(fail_after)

    # -- API side -------------------------------------------------------------
    def start(self) -> None:
        threading.Thread(target=self._run, name=f"refresh-{self.id[:8]}", daemon=True).start()

    def cancel(self) -> None:
        if self.status == "RollbackInProgress":
            raise ActiveInstanceRefreshNotFound(
                "An instance refresh that is rolling back cannot be cancelled.")
        self._request = "cancel"
        self.status, self.reason = "Cancelling", "Cancelling the instance refresh."

    def request_rollback(self) -> None:
        if self.status in ("Cancelling", "RollbackInProgress"):
            raise ActiveInstanceRefreshNotFound(
                f"The instance refresh is {self.status} and cannot be rolled back.")
        if self.previous is None or self.target is None:
            raise IrreversibleInstanceRefresh(
                "Rollback needs the group to use a launch template.")
        self._request = "rollback"
        self._begin_rollback("Rollback requested by the user.")

    def describe(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "InstanceRefreshId": self.id, "AutoScalingGroupName": self.group.name,
            "Status": self.status, "StatusReason": self.reason, "StartTime": self.start_time,
            "PercentageComplete": self.percentage, "InstancesToUpdate": self.to_update,
            "ProgressDetails": _progress(self.percentage, self.to_update),
            "Preferences": self.prefs.echo, "Strategy": self.strategy,
        }
        if self.end_time is not None:
            result["EndTime"] = self.end_time
        if self.desired:
            result["DesiredConfiguration"] = self.desired
        if self.rollback:
            result["RollbackDetails"] = self.rollback
        return result

    # -- worker side ----------------------------------------------------------
    def _run(self) -> None:
        try:
            self._sleep_plain(0.05)
            with LOCK:
                todo = self._instances_to_replace()
                self.to_update = len(todo)
                if self._request is None:  # not cancelled or rolled back while Pending
                    self.status, self.reason = "InProgress", "Replacing instances."
            finished_early = self._replace(todo)
            if not finished_early and self.prefs.bake_time:
                self.status, self.reason = "Baking", "Waiting for the bake time to pass."
                self._sleep(self.prefs.bake_time)
            with LOCK:
                if self.desired and self.target is not None:
                    self.group._set_launch_configuration(
                        None, self.desired["LaunchTemplate"], self.group.mixed_instances_policy)
                self._finish("Successful", "Instance refresh succeeded.")
        except _Stop:
            if self._request == "cancel":
                deleted = self.reason == "The Auto Scaling group was deleted."
                self._finish("Cancelled", self.reason if deleted else "Instance refresh was cancelled.")
            else:
                self._roll_back()
        except _Failed as failure:
            if self.prefs.auto_rollback and self.previous is not None:
                self._begin_rollback(str(failure))
                self._roll_back()
            else:
                self._finish("Failed", str(failure))
        except Exception as exc:  # a bug or a moto error: report it, never hang Pending
            self._finish("Failed", f"Instance refresh failed: {exc}")

    def _instances_to_replace(self) -> list[str]:
        todo = []
        for state in list(self.group.instance_states):
            if state.lifecycle_state == "Standby" and self.prefs.standby != "Terminate":
                continue
            if state.protected_from_scale_in and self.prefs.scale_in_protected == "Ignore":
                continue
            if state.lifecycle_state not in ("InService", "Standby"):
                continue
            if (self.prefs.skip_matching and self.target is not None
                    and instance_spec(state) == self.target.key):
                continue
            todo.append(state.instance.id)
        return todo

    def _replace(self, todo: list[str]) -> bool:
        """Replace ``todo`` in batches; True when a final checkpoint < 100 stopped it."""
        total = len(todo)
        if total == 0:
            self.percentage = 100
            return False
        capacity = max(self.group.desired_capacity or 0, total)
        size = batch_size(capacity, self.prefs)
        checkpoints = list(self.prefs.checkpoints)
        done = 0
        while done < total:
            self._check()
            self._wait_for_transitions(todo[done:])
            limit = total
            if checkpoints:
                limit = math.ceil(total * checkpoints[0] / 100)
            count = max(1, min(size, limit - done, total - done))
            self._replace_batch(todo[done:done + count])
            done += count
            self.percentage = done * 100 // total
            self.to_update = total - done
            while checkpoints and self.percentage >= checkpoints[0]:
                reached = checkpoints.pop(0)
                if not checkpoints and reached < 100:
                    self.reason = f"Instance refresh stopped at its last checkpoint ({reached}%)."
                    return True
                self.reason = f"Waiting at checkpoint {reached}% for the checkpoint delay."
                self._sleep(self.prefs.checkpoint_delay)
                self.reason = "Replacing instances."
        return False

    def _replace_batch(self, old: list[str]) -> None:
        if self.prefs.max_healthy > 100:
            new = self._launch(self.target, len(old), count_faults=True)
            self._warm(new)
            self._terminate(old)
        else:
            self._terminate(old)
            new = self._launch(self.target, len(old), count_faults=True)
            self._warm(new)

    def _warm(self, new: list[str]) -> None:
        self._wait_healthy(new, self._check)
        self._sleep(self.prefs.warmup)
        with LOCK:
            sick = [s for s in self.group.instance_states
                    if s.instance.id in new and s.health_status != "Healthy"]
        if sick:
            raise _Failed(
                f"Instance refresh failed: instance {sick[0].instance.id} did not become "
                f"healthy within the instance warmup ({self.prefs.warmup} s).")

    def _wait_healthy(self, new: list[str], check: Any) -> None:
        """Until every instance of ``new`` passes the group's health checks; ``_Failed``
        naming the instance and its target health when the group marks one ``Unhealthy``
        (or replaced it for that reason)."""
        # Instances that are records on the twin serve nothing: its balancer would never
        # see them healthy, so only the group's own health counts for them.
        elb = (str(self.group.health_check_type or "EC2").upper() == "ELB"
               and not (settings.twin() and settings.instances() == "records"))
        seen: dict[str, str] = {}  # instance -> the last unhealthy target health seen
        while True:
            check()
            with LOCK:
                states = {s.instance.id: s for s in self.group.instance_states
                          if s.instance.id in new}
            for instance_id in new:
                state = states.get(instance_id)
                if state is None or state.health_status != "Healthy":
                    why = seen.get(instance_id) or (
                        "the group marked it Unhealthy" if state is not None
                        else "it left the group")
                    raise _Failed(f"Instance refresh failed: instance {instance_id} did not "
                                  f"become healthy: {why}.")
            waiting = []
            for instance_id in (new if elb else []):
                health = target_health(self.backend, self.group, instance_id)
                bad = [h for h in health if h[1] != "healthy"]
                for name, status, reason, description in bad:
                    if status == "unhealthy":
                        seen[instance_id] = (f"target group {name} reports it unhealthy "
                                             f"({reason}: {description})")
                if bad or not health:
                    waiting.append(instance_id)
            if not waiting:
                return
            self.reason = (f"Waiting for remaining instances to be available. For example: "
                           f"{waiting[0]} has insufficient data to evaluate its health with "
                           f"Elastic Load Balancing.")
            self._sleep_plain(HEALTH_POLL)

    def _wait_for_transitions(self, todo: list[str]) -> None:
        """``Wait`` preferences: hold while protected/standby instances are in the way."""
        while True:
            with LOCK:
                states = [s for s in self.group.instance_states if s.instance.id in todo]
                blocked = (
                    (self.prefs.scale_in_protected == "Wait"
                     and any(s.protected_from_scale_in for s in states))
                    or (self.prefs.standby == "Wait"
                        and any(s.lifecycle_state == "Standby" for s in states))
                )
            if not blocked:
                return
            self.reason = "Waiting for protected or standby instances."
            self._sleep_plain(TICK * 5)
            self._check()

    # -- rollback ---------------------------------------------------------------
    def _begin_rollback(self, reason: str) -> None:
        self.rollback = {
            "RollbackReason": reason, "RollbackStartTime": _now(),
            "PercentageCompleteOnRollback": self.percentage,
            "InstancesToUpdateOnRollback": self.to_update,
            "ProgressDetailsOnRollback": _progress(self.percentage, self.to_update),
        }
        self.status, self.reason = "RollbackInProgress", f"Rolling back: {reason}"

    def _roll_back(self) -> None:
        try:
            with LOCK:
                live = {s.instance.id for s in self.group.instance_states}
            new = [i for i in self.launched if i in live]
            self.percentage, self.to_update = 0, len(new)
            size = batch_size(max(self.group.desired_capacity or 0, len(new), 1), self.prefs)
            for start in range(0, len(new), size):
                batch = new[start:start + size]
                self._terminate(batch)
                back = self._launch(self.previous, len(batch), count_faults=False)
                self._wait_healthy(back, lambda: None)
                self._sleep_plain(self.prefs.warmup * self._scale)
                self.to_update = len(new) - start - len(batch)
                self.percentage = (len(new) - self.to_update) * 100 // max(1, len(new))
            self.percentage = 100
            self._finish("RollbackSuccessful", self.reason)
        except Exception as exc:
            self._finish("RollbackFailed", f"Rollback failed: {exc}")

    # -- moto model changes -----------------------------------------------------
    def _launch(self, spec: LaunchSpec | None, count: int, *, count_faults: bool) -> list[str]:
        states: list[InstanceState] = []
        with LOCK:
            for _ in range(count):
                state = launch_instance(self.backend, self.group, spec, len(states))
                if count_faults:
                    if self._fail_after is not None and len(self.launched) == self._fail_after:
                        state.health_status = "Unhealthy"
                    self.launched.append(state.instance.id)
                states.append(state)
            # the whole batch appears at once, as one scaling activity
            self.group.instance_states = self.group.instance_states + [
                s for s in states if s not in self.group.instance_states]
            self.backend.update_attached_target_groups(self.group.name)
        return [s.instance.id for s in states]

    def _terminate(self, ids: list[str]) -> None:
        """Out of the group and its target groups now; terminated after the target groups'
        deregistration delay (what the twin's balancer drains), as AWS does."""
        with LOCK:
            drain = leave_group(self.backend, self.group, ids)
        self._sleep_plain(drain)
        with LOCK:
            if ids:
                self.backend.ec2_backend.terminate_instances(ids)

    # -- time -------------------------------------------------------------------
    def _check(self) -> None:
        if self.backend.autoscaling_groups.get(self.group.name) is not self.group:
            self._request = "cancel"
            self.reason = "The Auto Scaling group was deleted."
            raise _Stop()
        if self._request is not None:
            raise _Stop()
        for name in self.prefs.alarms:
            if alarm_state(self.group, name) == "ALARM":
                raise _Failed(f"Instance refresh failed: alarm {name} is in ALARM state.")

    def _sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of simulated time, checking cancel/rollback/alarms."""
        deadline = time.monotonic() + seconds * self._scale
        while True:
            self._check()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(TICK, left))

    @staticmethod
    def _sleep_plain(seconds: float) -> None:
        time.sleep(max(0.0, seconds))

    def _finish(self, status: str, reason: str) -> None:
        self.status, self.reason, self.end_time = status, reason, _now()


def _fail_after(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ValidationError(f"Tag {FAIL_TAG} must be an integer >= 0, got {raw!r}")
    return value


def _progress(percentage: int, to_update: int) -> dict[str, Any]:
    return {
        "LivePoolProgress": {"PercentageComplete": percentage, "InstancesToUpdate": to_update},
        "WarmPoolProgress": {"PercentageComplete": 0, "InstancesToUpdate": 0},
    }


def launch_instance(backend: AutoScalingBackend, group: FakeAutoScalingGroup,
                    spec: LaunchSpec | None, index: int = 0) -> InstanceState:
    """Launch one instance for ``group`` from ``spec`` (or its launch configuration).

    With a launch template the caller adds the returned state to the group.
    """
    if spec is None:
        before = len(group.instance_states)
        group.replace_autoscaling_group_instances(1, group.get_propagated_tags())
        return group.instance_states[before]
    version = spec.template.get_version(spec.number)
    tags = group.get_propagated_tags()
    tags[ASG_NAME_TAG] = group.name
    tags.update(version.instance_tags)
    subnets = group.vpc_zone_identifier.split(",") if group.vpc_zone_identifier else [None]
    subnet = subnets[(len(group.instance_states) + index) % len(subnets)]
    zone = (backend.ec2_backend.get_subnet(subnet).availability_zone if subnet
            else group.availability_zones[0])
    reservation = backend.ec2_backend.run_instances(
        version.image_id, 1, version.user_data, version.security_groups,
        instance_type=version.instance_type, tags={"instance": tags},
        placement=zone,
        launch_template={"LaunchTemplateId": spec.template.id, "Version": str(spec.number)},
        is_instance_type_default=False, subnet_id=subnet,
    )
    instance = reservation.instances[0]
    instance.autoscaling_group = group
    state = InstanceState(instance,
                          protected_from_scale_in=group.new_instances_protected_from_scale_in)
    setattr(state, LT_ATTR, spec.key)
    return state


def leave_group(backend: AutoScalingBackend, group: FakeAutoScalingGroup,
                ids: list[str]) -> float:
    """Take ``ids`` out of the group and deregister them from its target groups; the real
    seconds their targets drain on the twin's balancer (0 without the twin)."""
    doomed = set(ids)
    group.instance_states = [s for s in group.instance_states if s.instance.id not in doomed]
    drain = 0.0
    for arn in group.target_group_arns or []:
        target_group = backend.elbv2_backend.target_groups.get(arn)
        try:
            backend.elbv2_backend.deregister_targets(arn, [{"Id": i} for i in ids])
        except Exception:  # noqa: BLE001 - a target group deleted meanwhile is fine
            continue
        if settings.twin() and target_group is not None and ids:
            from localcloud.twin.balancer import drain_seconds

            drain = max(drain, drain_seconds(float(target_group.attributes.get(
                "deregistration_delay.timeout_seconds", 300))))
    return drain


def target_health(backend: AutoScalingBackend, group: FakeAutoScalingGroup,
                  instance_id: str) -> list[tuple[str, str, str, str]]:
    """(target group name, state, reason, description) of the instance in each target group
    of the group that holds it (on the twin: what the balancer's checks see)."""
    found = []
    for arn in group.target_group_arns or []:
        target_group = backend.elbv2_backend.target_groups.get(arn)
        if target_group is None or instance_id not in target_group.targets:
            continue
        try:
            (health,) = backend.elbv2_backend.describe_target_health(arn, [{"Id": instance_id}])
        except Exception:  # noqa: BLE001 - deregistered or deleted meanwhile: not seen
            continue
        found.append((target_group.name, health.status, health.reason or "",
                      health.description or ""))
    return found


def alarm_state(group: FakeAutoScalingGroup, name: str) -> str | None:
    """State of a CloudWatch alarm in the group's account and region, if it exists."""
    from moto.cloudwatch.models import cloudwatch_backends

    alarm = cloudwatch_backends[group.account_id][group.region].alarms.get(name)
    return None if alarm is None else alarm.state_value


class Registry:
    """Every refresh, per (account, region, group)."""

    def __init__(self) -> None:
        self._refreshes: dict[tuple[str, str, str], list[Refresh]] = {}

    def _key(self, group: FakeAutoScalingGroup) -> tuple[str, str, str]:
        return group.account_id, group.region, group.name

    def of(self, group: FakeAutoScalingGroup) -> list[Refresh]:
        """Refreshes of this group object (not of a deleted namesake), newest first."""
        refreshes = self._refreshes.get(self._key(group), [])
        return [r for r in reversed(refreshes) if r.group is group]

    def active(self, group: FakeAutoScalingGroup) -> Refresh | None:
        return next((r for r in self.of(group) if r.status in ACTIVE), None)

    def start(self, backend: AutoScalingBackend, group: FakeAutoScalingGroup, strategy: str,
              raw_prefs: dict[str, Any] | None, desired: dict[str, Any] | None) -> Refresh:
        with LOCK:
            if self.active(group) is not None:
                raise InstanceRefreshInProgress(
                    "An Instance Refresh is already in progress and blocks the execution "
                    "of this Instance Refresh.")
            if strategy != "Rolling":
                raise ValidationError(
                    f"Strategy {strategy!r} is not supported by the local cloud; use Rolling")
            if desired and desired.get("MixedInstancesPolicy"):
                raise ValidationError(
                    "DesiredConfiguration.MixedInstancesPolicy is not supported by the "
                    "local cloud; use DesiredConfiguration.LaunchTemplate")
            prefs = Preferences.parse(raw_prefs, group)
            refresh = Refresh(backend, group, strategy, prefs, desired)
            if prefs.skip_matching and refresh.target is None:
                raise ValidationError(
                    "SkipMatching needs a launch template (group or DesiredConfiguration)")
            self._refreshes.setdefault(self._key(group), []).append(refresh)
        refresh.start()
        return refresh

    def reset(self) -> None:
        with LOCK:
            for refreshes in self._refreshes.values():
                for refresh in refreshes:
                    if refresh.status in ACTIVE:
                        refresh._request = "cancel"
            self._refreshes.clear()


REGISTRY = Registry()
