"""localcloud/ext/fidelity/backup_plan_schedule.py in-process (moto's backends, no server):
a plan's daily rule backs up, when its time passes on the backup clock, the EBS volumes its
selections hold (Resources AND Conditions, ListOfTags, NotResources as the AWS Backup
developer guide's "Assigning resources" describes them), into the rule's vault with its
lifecycle, and names the plan and rule in CreatedBy."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from moto.backup.models import backup_backends

from localcloud.ext.fidelity import backup_jobs, backup_plan_schedule as schedule, backup_selections

REGION = "eu-central-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/taskapp-backup"
SCALE = 0.01  # LOCALCLOUD_TIME_SCALE: a backup-clock day lasts 864 s


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    backup_jobs.apply()
    backup_selections.apply()
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION, "LOCALCLOUD_TIME_SCALE": str(SCALE)}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("ec2"), backup_backends[ACCOUNT][REGION]


def volume(ec2, **tags: str) -> str:
    spec = [{"ResourceType": "volume", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else []
    vol = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8, TagSpecifications=spec)["VolumeId"]
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{vol}"


def plan_at(backend, clock_time_of_day: float, selection: dict) -> tuple[str, float]:
    """A plan whose daily rule runs one backup-clock hour after the plan's creation time of day;
    returns its id and the wall time at which its rule is due."""
    backend.create_backup_vault("vault", {}, None, None) if "vault" not in backend.vaults else None
    probe = backend.create_backup_plan({"BackupPlanName": "probe", "Rules": [
        {"RuleName": "x", "TargetBackupVaultName": "vault"}]}, None, "probe")
    created = probe.creation_date
    backend.delete_backup_plan(probe.backup_plan_id)
    at = (created % 86400 + clock_time_of_day) % 86400
    hour, minute = int(at // 3600), int(at % 3600 // 60) + 1
    if minute == 60:
        hour, minute = (hour + 1) % 24, 0
    plan = backend.create_backup_plan({"BackupPlanName": "daily", "Rules": [{
        "RuleName": "daily", "TargetBackupVaultName": "vault",
        "ScheduleExpression": f"cron({minute} {hour} * * ? *)",
        "Lifecycle": {"DeleteAfterDays": 7}}]}, None, "daily")
    backup_selections._selections(backend).setdefault(plan.backup_plan_id, {})["s"] = {
        "SelectionId": "s", "BackupPlanId": plan.backup_plan_id,
        "BackupSelection": {"SelectionName": "volumes", "IamRoleArn": ROLE, **selection}}
    return plan.backup_plan_id, plan.creation_date


def jobs_of(backend) -> list[dict]:
    return list(backup_jobs._jobs(backend).values())


def test_the_daily_rule_backs_up_the_tagged_volumes_once_when_due(aws) -> None:
    ec2, backend = aws
    tagged, other = volume(ec2, Backup="taskapp-daily"), volume(ec2, Backup="weekly")
    untagged = volume(ec2)
    plan_id, created = plan_at(backend, 3600, {
        "Resources": ["arn:aws:ec2:*:*:volume/*"],
        "Conditions": {"StringEquals": [{"ConditionKey": "aws:ResourceTag/Backup",
                                         "ConditionValue": "taskapp-daily"}]}})
    # Half a backup-clock hour after creation: not due yet.
    assert schedule.run_due(backend, created + 1800 * SCALE) == []
    # Two backup-clock hours: due once.
    (job,) = schedule.run_due(backend, created + 7200 * SCALE)
    assert job["ResourceArn"] == tagged and job["BackupVaultName"] == "vault"
    assert job["Lifecycle"] == {"DeleteAfterDays": 7}
    assert job["CreatedBy"]["BackupPlanId"] == plan_id and job["CreatedBy"]["BackupRuleId"]
    assert job["IamRoleArn"] == ROLE
    # Not again the same day; again the next day.
    assert schedule.run_due(backend, created + 20 * 3600 * SCALE) == []
    (again,) = schedule.run_due(backend, created + 26 * 3600 * SCALE)
    assert again["ResourceArn"] == tagged
    assert {j["ResourceArn"] for j in jobs_of(backend)} == {tagged}
    assert other not in {j["ResourceArn"] for j in jobs_of(backend)}
    assert untagged not in {j["ResourceArn"] for j in jobs_of(backend)}


def test_a_deleted_plan_runs_nothing(aws) -> None:
    ec2, backend = aws
    volume(ec2, Backup="taskapp-daily")
    plan_id, created = plan_at(backend, 3600, {"Resources": ["arn:aws:ec2:*:*:volume/*"]})
    backup_selections._selections(backend)[plan_id].clear()
    backend.delete_backup_plan(plan_id)
    assert schedule.run_due(backend, created + 7200 * SCALE) == []


@pytest.mark.parametrize(("selection", "held"), [
    ({"Resources": ["arn:aws:ec2:*:*:volume/*"]}, True),
    ({"Resources": ["arn:aws:rds:*:*:db:*"]}, False),
    ({"ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "aws:ResourceTag/Backup",
                      "ConditionValue": "taskapp-daily"}]}, True),
    ({"Resources": ["arn:aws:ec2:*:*:volume/*"], "NotResources": ["arn:aws:ec2:*:*:volume/*"]}, False),
    ({"Resources": ["arn:aws:ec2:*:*:volume/*"],
      "Conditions": {"StringLike": [{"ConditionKey": "aws:ResourceTag/Backup", "ConditionValue": "taskapp-*"}]}}, True),
    ({"Resources": ["arn:aws:ec2:*:*:volume/*"],
      "Conditions": {"StringNotEquals": [{"ConditionKey": "aws:ResourceTag/Backup", "ConditionValue": "taskapp-daily"}]}}, False),
])
def test_selection_matching(selection: dict, held: bool) -> None:
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-0123456789abcdef0"
    assert schedule.selected(selection, arn, {"Backup": "taskapp-daily"}) is held


def test_only_daily_utc_crons_are_run() -> None:
    assert schedule._daily_seconds("cron(0 3 * * ? *)") == 3 * 3600
    assert schedule._daily_seconds("cron(30 23 * * ? *)") == 23 * 3600 + 1800
    assert schedule._daily_seconds("rate(1 day)") is None
    assert schedule._daily_seconds("cron(0 3 ? * MON *)") is None


def test_the_twin_cycle_walks_every_account_and_region(aws, monkeypatch: pytest.MonkeyPatch) -> None:
    ec2, backend = aws
    tagged = volume(ec2, Backup="taskapp-daily")
    _, created = plan_at(backend, 3600, {"Resources": ["arn:aws:ec2:*:*:volume/*"]})
    monkeypatch.setattr(schedule.time, "time", lambda: created + 7200 * SCALE)
    schedule._cycle()
    assert [j["ResourceArn"] for j in jobs_of(backend)] == [tagged]
