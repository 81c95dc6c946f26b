"""AWS Backup: a plan's daily rule backs up the EBS volumes of its selections on schedule.

moto 5.2.5 stores plans (and, with ``backup_selections``, their selections) but runs
nothing. With ``LOCALCLOUD_TWIN=on``, on the twin's backup clock (as ``rds_backups``': from
the plan's creation, 1 / ``LOCALCLOUD_TIME_SCALE`` times as fast, a day in 864 s at the
default 0.01), each rule whose ``ScheduleExpression`` is a daily ``cron(M H * * ? *)`` runs
when H:M UTC passes on that clock: one backup job (``backup_jobs``, into the rule's
``TargetBackupVaultName`` with its ``Lifecycle``, ``CreatedBy`` naming the plan, its version
and the rule) per EBS volume the plan's selections hold, as AWS Backup selects them:
``Resources`` (ARN patterns, ``*`` a wildcard) or ``ListOfTags`` (``STRINGEQUALS``), AND
every ``Conditions`` entry on ``aws:ResourceTag/<key>``, minus ``NotResources``. A run
missed while the server was busy is not made up, as AWS skips a window that has passed.

Not run here: other schedule forms (rate(), weekly or monthly crons, time zones other than
UTC), other resource types (the database keeps RDS's own automated backups,
``rds_backups``; the tables are not backed up), the start and completion windows (a job
starts at once), and the plan's rules without the twin (no clock runs then: the plain
local cloud's playbook tests stay deterministic).
"""
from __future__ import annotations

import fnmatch
import re
import sys
import time
from typing import Any

from moto.backup.models import BackupBackend, backup_backends
from moto.ec2.models import ec2_backends

from localcloud import settings, twin
from localcloud.ext.fidelity import backup_jobs, backup_selections

DAY = 86400.0
_DAILY = re.compile(r"^cron\((\d{1,2}) (\d{1,2}) \* \* \? \*\)$")
_TAG_KEY = "aws:ResourceTag/"


def _daily_seconds(expression: str) -> float | None:
    """Seconds after midnight UTC of a daily cron rule; None for any other form."""
    found = _DAILY.match(expression or "")
    if found is None:
        return None
    minute, hour = int(found[1]), int(found[2])
    return float(hour * 3600 + minute * 60) if minute < 60 and hour < 24 else None


def _clock(created: float, now: float) -> float:
    """The backup clock: the plan's creation time, then 1/scale times as fast."""
    scale = settings.time_scale() or 1.0
    return created + (now - created) / scale


def _due(at: float, last: float, clock: float) -> bool:
    """Whether a daily moment ``at`` (seconds after midnight) lies in ``(last, clock]``."""
    start_day = (last // DAY) * DAY
    moment = start_day + at
    while moment <= clock:
        if moment > last:
            return True
        moment += DAY
    return False


def _condition(tags: dict[str, str], kind: str, key: str, value: str) -> bool:
    if not key.startswith(_TAG_KEY):
        return False
    actual = tags.get(key[len(_TAG_KEY):])
    if kind == "StringEquals":
        return actual == value
    if kind == "StringNotEquals":
        return actual != value
    if kind == "StringLike":
        return actual is not None and fnmatch.fnmatchcase(actual, value)
    if kind == "StringNotLike":
        return actual is None or not fnmatch.fnmatchcase(actual, value)
    return False


def selected(selection: dict[str, Any], arn: str, tags: dict[str, str]) -> bool:
    """Whether a selection (``BackupSelection``) holds the resource ``arn`` with ``tags``."""
    by_arn = any(fnmatch.fnmatchcase(arn, pattern) for pattern in selection.get("Resources") or [])
    by_tag = any(item.get("ConditionType", "STRINGEQUALS") == "STRINGEQUALS"
                 and _condition(tags, "StringEquals", item.get("ConditionKey", ""),
                                item.get("ConditionValue", ""))
                 for item in selection.get("ListOfTags") or [])
    if not (by_arn or by_tag):
        return False
    if any(fnmatch.fnmatchcase(arn, pattern) for pattern in selection.get("NotResources") or []):
        return False
    conditions = selection.get("Conditions") or {}
    return all(_condition(tags, kind, entry.get("ConditionKey", ""), entry.get("ConditionValue", ""))
               for kind, entries in conditions.items() for entry in entries or [])


def _volumes(backend: BackupBackend) -> list[tuple[str, dict[str, str]]]:
    """(ARN, tags) of the region's EBS volumes."""
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    partition = "aws-cn" if backend.region_name.startswith("cn-") else "aws"
    return [(f"arn:{partition}:ec2:{backend.region_name}:{backend.account_id}:volume/{volume.id}",
             dict(ec2.tags.get(volume.id, {})))
            for volume in list(ec2.volumes.values())]


def run_due(backend: BackupBackend, now: float) -> list[dict[str, Any]]:
    """Start the jobs of every daily rule of the region's live plans that came due since
    the previous call (on the backup clock); return the jobs started."""
    last_clocks: dict[tuple[str, str], float] = backend.__dict__.setdefault(
        "_localcloud_rule_clocks", {})
    started = []
    for plan in list(backend.plans.values()):
        if plan.deletion_date is not None:
            continue
        clock = _clock(plan.creation_date, now)
        selections = list(backup_selections._selections(backend).get(plan.backup_plan_id, {}).values())
        for rule in plan.backup_plan.get("Rules", []):
            at = _daily_seconds(rule.get("ScheduleExpression", ""))
            key = (plan.backup_plan_id, rule.get("RuleId") or rule.get("RuleName", ""))
            last = last_clocks.get(key, plan.creation_date)
            last_clocks[key] = clock
            if at is None or not _due(at, last, clock):
                continue
            created_by = {"BackupPlanId": plan.backup_plan_id, "BackupPlanArn": plan.backup_plan_arn,
                          "BackupPlanVersion": plan.version_id,
                          "BackupRuleId": rule.get("RuleId", "")}
            for arn, tags in _volumes(backend):
                holding = [s for s in selections if selected(s["BackupSelection"], arn, tags)]
                if not holding:
                    continue
                try:
                    started.append(backup_jobs.start_job(
                        backend, rule["TargetBackupVaultName"], arn,
                        holding[0]["BackupSelection"]["IamRoleArn"],
                        lifecycle=rule.get("Lifecycle"), tags=rule.get("RecoveryPointTags"),
                        created_by=created_by))
                except Exception as error:  # noqa: BLE001 - one volume's failure stops no other
                    print(f"localcloud: backup plan {plan.backup_plan_id}: {arn}: {error}",
                          file=sys.stderr, flush=True)
    return started


def _cycle() -> None:
    now = time.time()
    for regions in list(backup_backends.values()):
        for backend in list(regions.values()):
            run_due(backend, now)


_installed = False


def apply() -> None:
    """Run the plans' daily rules on the twin's clock (idempotent: one job per twin)."""
    global _installed
    if not _installed:
        twin.on_start(lambda running: running.every_cycle(_cycle))
        _installed = True
