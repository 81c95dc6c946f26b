"""AWS Backup: on-demand backup jobs of EBS volumes and the recovery points they leave.

moto 5.2.5 has vaults and plans but no backup jobs or recovery points at all
(``StartBackupJob``, ``DescribeBackupJob``, ``ListBackupJobs`` and
``ListRecoveryPointsByBackupVault`` are not routed: HTTP 404), and every vault reports
``NumberOfRecoveryPoints`` 0. Here, as AWS does for an EBS volume:

* ``StartBackupJob`` with a volume ARN (``arn:<partition>:ec2:<region>:<account>:volume/<id>``)
  and a vault that exists (``ResourceNotFoundException`` otherwise; ``IamRoleArn``
  required, ``InvalidParameterValueException``) takes an EC2 snapshot of the volume, owned by
  the account, ``VolumeId`` set, described "This snapshot is created by the AWS Backup
  service." and carrying the volume's tags plus ``aws:backup:source-resource`` (the volume
  id), as AWS Backup tags its EBS snapshots. The recovery point is the snapshot's ARN
  (``arn:<partition>:ec2:<region>::snapshot/<id>``, no account, as on AWS).
* The job is ``CREATED``, then ``RUNNING``, and ``COMPLETED`` after
  ``JOB_SECONDS`` × ``LOCALCLOUD_TIME_SCALE`` (0.6 s at the default 0.01; an 8 GiB first
  snapshot takes minutes on AWS); ``DescribeBackupJob`` and ``ListBackupJobs``
  (``ByResourceArn``, ``ByState``, ``ByBackupVaultName``, ``ByResourceType``) answer with
  AWS's fields. Only then does the recovery point show in
  ``ListRecoveryPointsByBackupVault`` (``ByResourceArn``, ``ByResourceType``), ``COMPLETED``,
  with the job's ``Lifecycle`` and its ``CalculatedLifecycle``, and count in the vault's
  ``NumberOfRecoveryPoints``.
* A second ``StartBackupJob`` with the same ``IdempotencyToken`` returns the first job.
* ``DescribeBackupVault`` answers ``NumberOfRecoveryPoints`` too (moto's only
  ``ListBackupVaults`` did), and ``DeleteBackupVault`` of a vault that holds recovery
  points is refused (``InvalidRequestException``), as on AWS: teardown.yml keeps such a
  vault.

Not done here: resources other than EBS volumes (refused with
``InvalidParameterValueException`` naming this gap); a lifecycle's expiry (recovery
points stay until the server stops). A plan's daily rule starts jobs through
``start_job`` on the twin only (``backup_plan_schedule``).
"""
from __future__ import annotations

import json
import re
import threading
from typing import Any

from moto.backup import urls as backup_urls
from moto.backup.exceptions import (
    InvalidParameterValueException,
    InvalidRequestException,
    ResourceNotFoundException,
)
from moto.backup.models import BackupBackend, Vault
from moto.backup.responses import BackupResponse
from moto.core.utils import unix_time
from moto.ec2.models import ec2_backends
from moto.moto_api._internal import mock_random

from localcloud import patching, settings

#: Seconds an EBS backup job runs before it completes, times LOCALCLOUD_TIME_SCALE.
JOB_SECONDS = 60.0
DESCRIPTION = "This snapshot is created by the AWS Backup service."
_VOLUME_ARN = re.compile(r"^arn:(?P<partition>[^:]+):ec2:(?P<region>[^:]+):(?P<account>\d{12}):volume/(?P<id>vol-[0-9a-f]+)$")
_LOCK = threading.Lock()
_MARK = "_localcloud_backup_jobs"


def _jobs(backend: BackupBackend) -> dict[str, dict[str, Any]]:
    """job id -> job, kept on the region's backend."""
    return backend.__dict__.setdefault("_localcloud_jobs", {})


def _vault(backend: BackupBackend, name: str) -> Any:
    vault = backend.vaults.get(name)
    if vault is None:
        raise ResourceNotFoundException(msg=f"Backup vault {name} does not exist")
    return vault


def _state(job: dict[str, Any], now: float) -> str:
    """The job's state at ``now``; completing it records its recovery point once."""
    if job["State"] == "COMPLETED":
        return "COMPLETED"
    done_at = job["CreationDate"] + JOB_SECONDS * (settings.time_scale() or 0.0)
    if now < done_at:
        return "RUNNING" if now > job["CreationDate"] else "CREATED"
    job.update(State="COMPLETED", CompletionDate=done_at, PercentDone="100.0",
               BytesTransferred=job["BackupSizeInBytes"])
    job["_vault"].num_of_recovery_points += 1
    return "COMPLETED"


def _lifecycle(job: dict[str, Any]) -> dict[str, Any]:
    """``CalculatedLifecycle`` of the job's recovery point, from its ``Lifecycle``."""
    lifecycle = job.get("Lifecycle") or {}
    calculated = {}
    if lifecycle.get("MoveToColdStorageAfterDays"):
        calculated["MoveToColdStorageAt"] = (
            job["CreationDate"] + 86400 * lifecycle["MoveToColdStorageAfterDays"])
    if lifecycle.get("DeleteAfterDays"):
        calculated["DeleteAt"] = job["CreationDate"] + 86400 * lifecycle["DeleteAfterDays"]
    return calculated


def _job_view(job: dict[str, Any]) -> dict[str, Any]:
    with _LOCK:
        job["State"] = _state(job, unix_time())
        if job["State"] == "RUNNING":
            job["PercentDone"] = "50.0"
    return {k: v for k, v in job.items() if not k.startswith("_") and v is not None}


def start_job(backend: BackupBackend, vault_name: str, arn: str, role: str,
              lifecycle: dict[str, Any] | None = None, start_window_minutes: int = 480,
              tags: dict[str, str] | None = None, created_by: dict[str, Any] | None = None,
              token: str | None = None) -> dict[str, Any]:
    """Start a backup job of the EBS volume ``arn`` into ``vault_name`` (an on-demand one,
    or a plan's when ``created_by`` names it); AWS's errors for what it refuses."""
    vault = _vault(backend, vault_name)
    if token:
        for job in _jobs(backend).values():
            if job["_token"] == token:
                return job
    found = _VOLUME_ARN.match(arn)
    if found is None:
        raise InvalidParameterValueException(
            msg=f"Invalid resource ARN {arn}: the local cloud backs up EBS volumes only "
                "(arn:<partition>:ec2:<region>:<account>:volume/vol-...)")
    if (found["region"], found["account"]) != (backend.region_name, backend.account_id):
        raise InvalidParameterValueException(
            msg=f"Resource {arn} is not in this account and region")
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    volume = ec2.volumes.get(found["id"])
    if volume is None:
        raise ResourceNotFoundException(msg=f"Resource {arn} not found")
    snapshot = ec2.create_snapshot(volume.id, DESCRIPTION)
    snapshot_tags = {k: v for k, v in ec2.tags.get(volume.id, {}).items() if not k.startswith("aws:")}
    snapshot_tags.update(tags or {})
    snapshot_tags["aws:backup:source-resource"] = volume.id
    ec2.create_tags([snapshot.id], snapshot_tags)
    now = unix_time()
    job = {
        "AccountId": backend.account_id,
        "BackupJobId": str(mock_random.uuid4()).upper(),
        "BackupVaultName": vault.backup_vault_name,
        "BackupVaultArn": vault.backup_vault_arn,
        "RecoveryPointArn": f"arn:{found['partition']}:ec2:{backend.region_name}::snapshot/{snapshot.id}",
        "ResourceArn": arn,
        "ResourceType": "EBS",
        "ResourceName": snapshot_tags.get("Name"),
        "CreationDate": now,
        "State": "CREATED",
        "PercentDone": "0.0",
        "BackupSizeInBytes": int(volume.size) * 1024 ** 3,
        "BytesTransferred": 0,
        "IamRoleArn": role,
        "StartBy": now + 60 * start_window_minutes,
        "CreatedBy": created_by,
        "Lifecycle": lifecycle,
        "IsParent": False,
        "_vault": vault,
        "_token": token,
        "_encrypted": bool(volume.encrypted),
    }
    with _LOCK:
        _jobs(backend)[job["BackupJobId"]] = job
    return job


def start_backup_job(self: BackupResponse) -> str:
    body = json.loads(self.body or "{}")
    for field in ("BackupVaultName", "ResourceArn", "IamRoleArn"):
        if not body.get(field):
            raise InvalidParameterValueException(msg=f"{field} is required")
    job = start_job(self.backup_backend, body["BackupVaultName"], body["ResourceArn"],
                    body["IamRoleArn"], lifecycle=body.get("Lifecycle"),
                    start_window_minutes=int(body.get("StartWindowMinutes") or 480),
                    tags=body.get("RecoveryPointTags"), token=body.get("IdempotencyToken"))
    return json.dumps({k: job[k] for k in ("BackupJobId", "RecoveryPointArn", "CreationDate",
                                           "IsParent")})


def describe_backup_job(self: BackupResponse) -> str:
    job_id = self.uri_match.get("backupJobId") or self.path.rstrip("/").rsplit("/", 1)[-1]
    job = _jobs(self.backup_backend).get(job_id)
    if job is None:
        raise ResourceNotFoundException(msg=f"Backup job {job_id} not found")
    view = _job_view(job)
    view.pop("Lifecycle", None)
    return json.dumps(view)


def _query(self: BackupResponse, name: str) -> str | None:
    values = self.querystring.get(name)
    return values[0] if values else None


def list_backup_jobs(self: BackupResponse) -> str:
    wanted = {"ResourceArn": _query(self, "resourceArn"), "State": _query(self, "state"),
              "BackupVaultName": _query(self, "backupVaultName"),
              "ResourceType": _query(self, "resourceType")}
    listed = []
    for job in list(_jobs(self.backup_backend).values()):
        view = _job_view(job)
        if all(value is None or view.get(key) == value for key, value in wanted.items()):
            view.pop("Lifecycle", None)
            listed.append(view)
    return json.dumps({"BackupJobs": listed})


def list_recovery_points_by_backup_vault(self: BackupResponse) -> str:
    backend = self.backup_backend
    name = self.uri_match.get("backupVaultName") or self.path.split("/backup-vaults/")[1].split("/")[0]
    vault = _vault(backend, name)
    by_arn, by_type = _query(self, "resourceArn"), _query(self, "resourceType")
    points = []
    for job in list(_jobs(backend).values()):
        view = _job_view(job)
        if job["_vault"] is not vault or view["State"] != "COMPLETED":
            continue
        if (by_arn and job["ResourceArn"] != by_arn) or (by_type and by_type != "EBS"):
            continue
        point = {k: job[k] for k in ("RecoveryPointArn", "BackupVaultName", "BackupVaultArn",
                                     "ResourceArn", "ResourceType", "ResourceName", "IamRoleArn",
                                     "CreationDate", "CompletionDate", "BackupSizeInBytes")
                 if job.get(k) is not None}
        if job.get("CreatedBy"):
            point["CreatedBy"] = job["CreatedBy"]
        point.update(Status="COMPLETED", IsEncrypted=job["_encrypted"],
                     Lifecycle=job.get("Lifecycle") or {},
                     CalculatedLifecycle=_lifecycle(job), IsParent=False)
        points.append(point)
    return json.dumps({"RecoveryPoints": points})


def apply() -> None:
    """Install the gap fills (idempotent)."""
    if getattr(BackupResponse, _MARK, False):
        return
    patching.answer(BackupResponse, start_backup_job, describe_backup_job, list_backup_jobs,
                    list_recovery_points_by_backup_vault)
    # Explicit trailing slashes: moto strips a "/?" and Flask then 404s the slash form.
    backup_urls.url_paths["{0}/backup-jobs$"] = BackupResponse.dispatch
    backup_urls.url_paths["{0}/backup-jobs/$"] = BackupResponse.dispatch
    backup_urls.url_paths["{0}/backup-jobs/(?P<backupJobId>[^/]+)$"] = BackupResponse.dispatch
    backup_urls.url_paths["{0}/backup-vaults/(?P<backupVaultName>[^/]+)/recovery-points/$"] = \
        BackupResponse.dispatch
    # DescribeBackupVault serialises the Vault by the API's field names.
    Vault.number_of_recovery_points = property(  # type: ignore[attr-defined]
        lambda vault: vault.num_of_recovery_points)
    delete_vault = BackupBackend.delete_backup_vault

    def delete_backup_vault(self: BackupBackend, backup_vault_name: str) -> None:
        for job in list(_jobs(self).values()):
            _job_view(job)  # a job that has just completed counts
        vault = self.vaults.get(backup_vault_name)
        if vault is not None and vault.num_of_recovery_points > 0:
            raise InvalidRequestException(
                msg="Backup vault cannot be deleted because it contains recovery points")
        delete_vault(self, backup_vault_name)

    BackupBackend.delete_backup_vault = delete_backup_vault  # type: ignore[method-assign]
    setattr(BackupResponse, _MARK, True)
