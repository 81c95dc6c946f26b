"""AWS Backup gap fills: selections, UpdateBackupPlan, plan names reusable after deletion,
a missing vault answered with AccessDeniedException.
Shapes and errors as the AWS Backup API reference describes them.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"
DB = "arn:aws:rds:eu-central-1:123456789012:db:taskapp"


def _rule(schedule: str = "cron(0 3 * * ? *)", days: int = 7) -> dict[str, Any]:
    return {"RuleName": "daily", "TargetBackupVaultName": "vault",
            "ScheduleExpression": schedule, "Lifecycle": {"DeleteAfterDays": days}}


@pytest.fixture
def plan(localcloud: str) -> Iterator[tuple[str, str]]:
    backup = boto3.client("backup")
    name = f"plan-{uuid.uuid4().hex[:8]}"
    plan_id = backup.create_backup_plan(
        BackupPlan={"BackupPlanName": name, "Rules": [_rule()]})["BackupPlanId"]
    yield plan_id, name
    for item in backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]:
        backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=item["SelectionId"])
    backup.delete_backup_plan(BackupPlanId=plan_id)


def test_a_selection_is_created_listed_read_and_deleted(plan: tuple[str, str]) -> None:
    backup = boto3.client("backup")
    plan_id, _ = plan
    created = backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection={
        "SelectionName": "database", "IamRoleArn": ROLE, "Resources": [DB]})
    assert created["BackupPlanId"] == plan_id

    listed = backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    assert [(s["SelectionId"], s["SelectionName"], s["IamRoleArn"]) for s in listed] == [
        (created["SelectionId"], "database", ROLE)]
    got = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=created["SelectionId"])
    assert got["BackupSelection"]["Resources"] == [DB]
    assert got["BackupSelection"]["SelectionName"] == "database"

    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=created["SelectionId"])
    assert backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []
    with pytest.raises(ClientError) as missing:
        backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=created["SelectionId"])
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_selection_needs_a_live_plan_and_a_role(plan: tuple[str, str]) -> None:
    backup = boto3.client("backup")
    with pytest.raises(ClientError) as no_plan:
        backup.create_backup_selection(BackupPlanId=str(uuid.uuid4()), BackupSelection={
            "SelectionName": "database", "IamRoleArn": ROLE, "Resources": [DB]})
    assert no_plan.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as no_role:
        backup.create_backup_selection(BackupPlanId=plan[0], BackupSelection={
            "SelectionName": "database", "IamRoleArn": "", "Resources": [DB]})
    assert no_role.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_a_plan_with_selections_cannot_be_deleted(plan: tuple[str, str]) -> None:
    backup = boto3.client("backup")
    backup.create_backup_selection(BackupPlanId=plan[0], BackupSelection={
        "SelectionName": "database", "IamRoleArn": ROLE, "Resources": [DB]})
    with pytest.raises(ClientError) as refused:
        backup.delete_backup_plan(BackupPlanId=plan[0])
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"


def test_update_replaces_the_rules_and_the_version(plan: tuple[str, str]) -> None:
    backup = boto3.client("backup")
    plan_id, name = plan
    before = backup.get_backup_plan(BackupPlanId=plan_id)
    backup.update_backup_plan(BackupPlanId=plan_id, BackupPlan={
        "BackupPlanName": name, "Rules": [_rule("cron(0 4 * * ? *)", 14)]})
    after = backup.get_backup_plan(BackupPlanId=plan_id)
    (rule,) = after["BackupPlan"]["Rules"]
    assert (rule["ScheduleExpression"], rule["Lifecycle"]["DeleteAfterDays"]) == (
        "cron(0 4 * * ? *)", 14)
    assert after["VersionId"] != before["VersionId"]


def test_a_deleted_plan_name_can_be_used_again(localcloud: str) -> None:
    backup = boto3.client("backup")
    name = f"plan-{uuid.uuid4().hex[:8]}"
    first = backup.create_backup_plan(BackupPlan={"BackupPlanName": name, "Rules": [_rule()]})
    with pytest.raises(ClientError) as taken:
        backup.create_backup_plan(BackupPlan={"BackupPlanName": name, "Rules": [_rule()]})
    assert taken.value.response["Error"]["Code"] == "AlreadyExistsException"
    backup.delete_backup_plan(BackupPlanId=first["BackupPlanId"])
    second = backup.create_backup_plan(BackupPlan={"BackupPlanName": name, "Rules": [_rule()]})
    assert second["BackupPlanId"] != first["BackupPlanId"]
    backup.delete_backup_plan(BackupPlanId=second["BackupPlanId"])


def test_a_missing_vault_is_answered_with_access_denied(localcloud: str) -> None:
    backup = boto3.client("backup")
    with pytest.raises(ClientError) as denied:
        backup.describe_backup_vault(BackupVaultName=f"missing-{uuid.uuid4().hex[:8]}")
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    name = f"vault-{uuid.uuid4().hex[:8]}"
    backup.create_backup_vault(BackupVaultName=name)
    try:
        assert backup.describe_backup_vault(BackupVaultName=name)["BackupVaultName"] == name
    finally:
        backup.delete_backup_vault(BackupVaultName=name)
