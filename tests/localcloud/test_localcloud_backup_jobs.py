"""AWS Backup on-demand jobs of EBS volumes: StartBackupJob takes an EC2 snapshot of the
volume and leaves a recovery point in the vault once the job completes.

Shapes, states and errors as the AWS Backup API reference describes them (StartBackupJob,
DescribeBackupJob, ListBackupJobs, ListRecoveryPointsByBackupVault); the snapshot as AWS
Backup makes it for EBS (owned by the account, VolumeId set, its description, the volume's
tags and ``aws:backup:source-resource``); what prowler's ``ec2_ebs_volume_snapshots_exists``
reads (DescribeSnapshots OwnerIds=self).
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
REGION = "eu-central-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/taskapp-backup"


@pytest.fixture
def vault(localcloud: str) -> Iterator[str]:
    name = f"vault-{uuid.uuid4().hex[:8]}"
    boto3.client("backup").create_backup_vault(BackupVaultName=name)
    yield name


@pytest.fixture
def volume(localcloud: str) -> Iterator[str]:
    ec2 = boto3.client("ec2")
    vol = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8, TagSpecifications=[{
        "ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "taskapp"},
                                           {"Key": "Backup", "Value": "taskapp-daily"}]}])
    yield vol["VolumeId"]


def arn(volume_id: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{volume_id}"


def wait_completed(job_id: str, timeout: float = 30.0) -> dict:
    backup = boto3.client("backup")
    deadline = time.monotonic() + timeout
    while True:
        job = backup.describe_backup_job(BackupJobId=job_id)
        if job["State"] == "COMPLETED" or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_a_job_snapshots_the_volume_and_leaves_a_recovery_point(vault: str, volume: str) -> None:
    backup, ec2 = boto3.client("backup"), boto3.client("ec2")
    started = backup.start_backup_job(
        BackupVaultName=vault, ResourceArn=arn(volume), IamRoleArn=ROLE,
        Lifecycle={"DeleteAfterDays": 7})
    assert started["RecoveryPointArn"].startswith(f"arn:aws:ec2:{REGION}::snapshot/snap-")

    first = backup.describe_backup_job(BackupJobId=started["BackupJobId"])
    assert first["State"] in {"CREATED", "RUNNING"}
    # Not a recovery point until the job completes.
    assert backup.list_recovery_points_by_backup_vault(
        BackupVaultName=vault)["RecoveryPoints"] == []

    job = wait_completed(started["BackupJobId"])
    assert job["State"] == "COMPLETED" and job["PercentDone"] == "100.0"
    assert (job["ResourceArn"], job["ResourceType"], job["BackupVaultName"], job["IamRoleArn"]) == (
        arn(volume), "EBS", vault, ROLE)
    assert job["RecoveryPointArn"] == started["RecoveryPointArn"]

    # The snapshot prowler's ec2_ebs_volume_snapshots_exists looks for.
    snapshot_id = started["RecoveryPointArn"].rsplit("/", 1)[1]
    (snapshot,) = [s for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
                   if s["SnapshotId"] == snapshot_id]
    assert snapshot["VolumeId"] == volume and snapshot["OwnerId"] == ACCOUNT
    assert snapshot["Description"] == "This snapshot is created by the AWS Backup service."
    tags = {t["Key"]: t["Value"] for t in snapshot["Tags"]}
    assert tags == {"Name": "taskapp", "Backup": "taskapp-daily",
                    "aws:backup:source-resource": volume}

    (point,) = backup.list_recovery_points_by_backup_vault(
        BackupVaultName=vault, ByResourceArn=arn(volume))["RecoveryPoints"]
    assert point["RecoveryPointArn"] == started["RecoveryPointArn"]
    assert (point["Status"], point["ResourceType"], point["Lifecycle"]) == (
        "COMPLETED", "EBS", {"DeleteAfterDays": 7})
    assert (point["CalculatedLifecycle"]["DeleteAt"] - point["CreationDate"]).days == 7
    (listed,) = [v for v in backup.list_backup_vaults()["BackupVaultList"]
                 if v["BackupVaultName"] == vault]
    assert listed["NumberOfRecoveryPoints"] == 1
    assert backup.describe_backup_vault(BackupVaultName=vault)["NumberOfRecoveryPoints"] == 1
    # AWS keeps a vault that holds recovery points.
    with pytest.raises(ClientError) as kept:
        backup.delete_backup_vault(BackupVaultName=vault)
    assert kept.value.response["Error"]["Code"] == "InvalidRequestException"


def test_an_empty_vault_can_be_deleted(vault: str) -> None:
    backup = boto3.client("backup")
    assert backup.describe_backup_vault(BackupVaultName=vault)["NumberOfRecoveryPoints"] == 0
    backup.delete_backup_vault(BackupVaultName=vault)
    assert vault not in {v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]}


def test_jobs_are_listed_by_resource_and_state(vault: str, volume: str) -> None:
    backup = boto3.client("backup")
    job_id = backup.start_backup_job(BackupVaultName=vault, ResourceArn=arn(volume),
                                     IamRoleArn=ROLE)["BackupJobId"]
    wait_completed(job_id)
    mine = backup.list_backup_jobs(ByResourceArn=arn(volume))["BackupJobs"]
    assert [j["BackupJobId"] for j in mine] == [job_id]
    assert backup.list_backup_jobs(ByResourceArn=arn(volume), ByState="RUNNING")["BackupJobs"] == []
    assert backup.list_recovery_points_by_backup_vault(
        BackupVaultName=vault, ByResourceArn=arn("vol-0123456789abcdef0"))["RecoveryPoints"] == []


def test_the_same_idempotency_token_returns_the_same_job(vault: str, volume: str) -> None:
    backup = boto3.client("backup")
    token = uuid.uuid4().hex
    one = backup.start_backup_job(BackupVaultName=vault, ResourceArn=arn(volume),
                                  IamRoleArn=ROLE, IdempotencyToken=token)
    two = backup.start_backup_job(BackupVaultName=vault, ResourceArn=arn(volume),
                                  IamRoleArn=ROLE, IdempotencyToken=token)
    assert one["BackupJobId"] == two["BackupJobId"]
    assert len(backup.list_backup_jobs(ByResourceArn=arn(volume))["BackupJobs"]) == 1


def test_bad_jobs_are_refused(vault: str, volume: str) -> None:
    backup = boto3.client("backup")
    cases = [
        ({"BackupVaultName": "no-such-vault", "ResourceArn": arn(volume)},
         "ResourceNotFoundException"),
        ({"BackupVaultName": vault, "ResourceArn": arn("vol-0123456789abcdef0")},
         "ResourceNotFoundException"),
        ({"BackupVaultName": vault,
          "ResourceArn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/taskapp-items"},
         "InvalidParameterValueException"),
    ]
    for args, code in cases:
        with pytest.raises(ClientError) as refused:
            backup.start_backup_job(IamRoleArn=ROLE, **args)
        assert refused.value.response["Error"]["Code"] == code, args
    with pytest.raises(ClientError) as missing:
        backup.describe_backup_job(BackupJobId=str(uuid.uuid4()).upper())
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
