"""The backup tier alone on an empty local cloud: the vault, the daily plan kept 7 days
(the seed's backups), the selection of the database and every table and the one of the
instances' volumes (by tag), the service role
trusting AWS Backup for this account only; idempotence, check mode, teardown (twice).

Expected values come from the seed (stack.yml's documented 7 days at 03:00 UTC) and the
shared table definition, not from the playbook. The tests run in file order.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from provision_helpers import ROOT, Run, client, private_cloud, run_playbook

pytestmark = [pytest.mark.slow, pytest.mark.playbook, pytest.mark.localcloud]

STACK = yaml.safe_load((ROOT / "inventories" / "aws" / "group_vars" / "all" / "stack.yml").read_text())
TABLES = yaml.safe_load((ROOT / "app" / "autobuy" / "schema" / "dynamodb_tables.yml").read_text())["tables"]
ACCOUNT = "123456789012"


class Cloud:
    def __init__(self, url: str, cold: Run) -> None:
        self.url, self.cold = url, cold

    def client(self, service: str) -> Any:
        return client(service, self.url)

    def plan(self) -> dict[str, Any] | None:
        backup = self.client("backup")
        plans = [p for p in backup.list_backup_plans()["BackupPlansList"]
                 if p["BackupPlanName"] == STACK["autobuy_backup_plan_name"]]
        return backup.get_backup_plan(BackupPlanId=plans[0]["BackupPlanId"]) if plans else None

    def selection(self, name: str) -> dict[str, Any]:
        """The plan's selection of that name (the plan has two: data, volumes)."""
        backup, plan = self.client("backup"), self.plan()
        assert plan is not None
        listed = backup.list_backup_selections(BackupPlanId=plan["BackupPlanId"])[
            "BackupSelectionsList"]
        assert sorted(item["SelectionName"] for item in listed) == sorted(
            [STACK["autobuy_backup_selection_name"], STACK["autobuy_backup_volume_selection_name"]])
        (item,) = [item for item in listed if item["SelectionName"] == name]
        return backup.get_backup_selection(BackupPlanId=plan["BackupPlanId"],
                                           SelectionId=item["SelectionId"])["BackupSelection"]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    with private_cloud(tmp_path_factory.mktemp("backup") / "localcloud.log") as url:
        yield Cloud(url, run_playbook("playbooks/backup.yml", url))


def assert_ok(run: Run, changed: int | None = None) -> None:
    assert run.returncode == 0, run.output[-4000:]
    if changed is not None:
        assert run.recap["changed"] == changed, run.output[-4000:]


def test_converge_succeeds(cloud: Cloud) -> None:
    assert_ok(cloud.cold)
    assert cloud.cold.recap["changed"] >= 4


def test_plan_backs_up_daily_at_three_and_keeps_seven_days(cloud: Cloud) -> None:
    plan = cloud.plan()
    assert plan is not None
    (rule,) = plan["BackupPlan"]["Rules"]
    assert rule["TargetBackupVaultName"] == STACK["autobuy_backup_vault_name"]
    assert rule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert rule["Lifecycle"]["DeleteAfterDays"] == 7
    vault = cloud.client("backup").describe_backup_vault(
        BackupVaultName=STACK["autobuy_backup_vault_name"])
    assert vault["BackupVaultName"] == STACK["autobuy_backup_vault_name"]


def test_selection_holds_the_database_and_every_table(cloud: Cloud) -> None:
    backup = cloud.client("backup")
    plan = cloud.plan()
    assert plan is not None
    selection = cloud.selection(STACK["autobuy_backup_selection_name"])
    prefix = f"arn:aws:dynamodb:eu-central-1:{ACCOUNT}:table/{STACK['autobuy_table_prefix']}"
    assert sorted(selection["Resources"]) == sorted(
        [f"arn:aws:rds:eu-central-1:{ACCOUNT}:db:{STACK['autobuy_db_identifier']}"]
        + [prefix + t["name"] for t in TABLES])
    assert selection["IamRoleArn"].endswith(":role/" + STACK["autobuy_backup_role_name"])


def test_volume_selection_holds_every_volume_with_the_backup_tag(cloud: Cloud) -> None:
    # AWS Backup's form for "every EBS volume with this tag" (Resources AND Conditions),
    # and the ARN pattern prowler's ec2_ebs_volume_protected_by_backup_plan accepts.
    selection = cloud.selection(STACK["autobuy_backup_volume_selection_name"])
    assert selection["Resources"] == ["arn:aws:ec2:*:*:volume/*"]
    assert selection["Conditions"]["StringEquals"] == [
        {"ConditionKey": "aws:ResourceTag/Backup", "ConditionValue": STACK["autobuy_backup_plan_name"]}]
    assert not selection.get("ListOfTags")
    assert selection["IamRoleArn"].endswith(":role/" + STACK["autobuy_backup_role_name"])


def test_backup_role_trusts_aws_backup_for_this_account_only(cloud: Cloud) -> None:
    iam = cloud.client("iam")
    role = iam.get_role(RoleName=STACK["autobuy_backup_role_name"])["Role"]
    document = role["AssumeRolePolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    (statement,) = document["Statement"]
    assert statement["Principal"] == {"Service": "backup.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    attached = {p["PolicyName"] for p in iam.list_attached_role_policies(
        RoleName=STACK["autobuy_backup_role_name"])["AttachedPolicies"]}
    assert attached == {"AWSBackupServiceRolePolicyForBackup",
                        "AWSBackupServiceRolePolicyForRestores"}


def test_second_run_changes_nothing(cloud: Cloud) -> None:
    assert_ok(run_playbook("playbooks/backup.yml", cloud.url), changed=0)


def test_check_mode_changes_nothing(cloud: Cloud) -> None:
    assert_ok(run_playbook("playbooks/backup.yml", cloud.url, "--check"), changed=0)


def test_check_mode_tells_a_changed_retention(cloud: Cloud) -> None:
    run = run_playbook("playbooks/backup.yml", cloud.url, "--check",
                       extra={"autobuy_backup_retention_days": 14})
    assert_ok(run)
    assert run.recap["changed"] == 1
    plan = cloud.plan()
    assert plan is not None and plan["BackupPlan"]["Rules"][0]["Lifecycle"]["DeleteAfterDays"] == 7


def test_teardown_removes_the_backup_tier(cloud: Cloud) -> None:
    assert_ok(run_playbook("teardown.yml", cloud.url, "--tags", "backup"))
    assert cloud.plan() is None
    vaults = cloud.client("backup").list_backup_vaults()["BackupVaultList"]
    assert STACK["autobuy_backup_vault_name"] not in {v["BackupVaultName"] for v in vaults}
    roles = {r["RoleName"] for r in cloud.client("iam").list_roles()["Roles"]}
    assert STACK["autobuy_backup_role_name"] not in roles


def test_second_teardown_changes_nothing(cloud: Cloud) -> None:
    assert_ok(run_playbook("teardown.yml", cloud.url, "--tags", "backup"), changed=0)
