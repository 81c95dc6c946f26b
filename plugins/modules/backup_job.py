#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""On-demand AWS Backup jobs for resources that have no recovery point yet."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: backup_job
short_description: Start an on-demand AWS Backup job for each resource without a recovery point
description:
  - Neither C(amazon.aws) nor C(community.aws) has a module for AWS Backup's
    C(StartBackupJob). A backup plan backs its selection up on its schedule only, so a
    resource created after today's run has no backup until tomorrow's.
  - For each resource of O(resource_arns), this module starts an on-demand backup job into
    O(backup_vault_name) unless the vault already holds a recovery point of it
    (C(COMPLETED), C(PARTIAL) or C(CREATING)) or a job for it into that vault is already
    C(CREATED), C(PENDING) or C(RUNNING). A resource with a recovery point gets no new job;
    a running job is followed, not started again.
  - With O(wait), waits until every job it started or found running has ended, and fails
    if one ends other than C(COMPLETED) or O(wait_timeout) passes first.
  - Used by playbooks/tasks/backup_volumes.yml after the compute tier converges and after
    every instance refresh, so the instances' new EBS volumes are backed up at once.
  - In check mode nothing is started; the result lists what would be.
version_added: "1.2.0"
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  backup_vault_name:
    description: The vault the recovery points go to; it must exist.
    type: str
    required: true
  resource_arns:
    description:
      - ARNs of the resources to protect (for example EBS volumes,
        C(arn:aws:ec2:eu-central-1:123456789012:volume/vol-...)).
      - An empty list does nothing.
    type: list
    elements: str
    required: true
  iam_role_arn:
    description: The role AWS Backup assumes to take the backups (the plan's selection's role).
    type: str
    required: true
  delete_after_days:
    description:
      - Days a recovery point this module starts is kept (the plan's lifecycle, so an
        on-demand backup expires as the scheduled ones do). Omitted, it is kept until deleted.
    type: int
  start_window_minutes:
    description: Minutes AWS Backup may wait before starting a job (at least 60).
    type: int
    default: 60
  complete_window_minutes:
    description: Minutes after the start by which a job must complete.
    type: int
    default: 180
  wait:
    description: Wait for the jobs to end.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the jobs before failing.
    type: int
    default: 1800
  poll_interval:
    description: Seconds between two reads of a job's state while waiting.
    type: int
    default: 15
extends_documentation_fragment:
  - autobuy.guard.autobuy_aws
notes:
  - Only recovery points in O(backup_vault_name) count; a backup in another vault or an EBS
    snapshot taken outside AWS Backup does not.
  - Recovery points of the plan's scheduled runs count as well as on-demand ones.
"""

EXAMPLES = r"""
- name: Back up the instances' volumes that have no backup yet
  autobuy.guard.backup_job:
    backup_vault_name: taskapp-backups
    iam_role_arn: arn:aws:iam::123456789012:role/taskapp-backup
    resource_arns:
      - arn:aws:ec2:eu-central-1:123456789012:volume/vol-0123456789abcdef0
    delete_after_days: 7
    wait_timeout: 3600
    region: eu-central-1
    endpoint_url: "{{ aws_endpoint_url | default(omit, true) }}"
"""

RETURN = r"""
started:
  description:
    - The jobs started by this run (in check mode, the resources a job would be started
      for, without C(backup_job_id)), with their state at the end of the run.
  returned: always
  type: list
  elements: dict
  contains:
    resource_arn:
      description: The resource backed up.
      type: str
    backup_job_id:
      description: The job's id (not in check mode).
      type: str
    recovery_point_arn:
      description: The recovery point the job makes (an EBS snapshot's ARN for a volume).
      type: str
    state:
      description: The job's last state read (C(COMPLETED) after a successful wait).
      type: str
  sample:
    - resource_arn: arn:aws:ec2:eu-central-1:123456789012:volume/vol-0123456789abcdef0
      backup_job_id: 6D8D5A0C-3C8B-4C3A-A6A3-1D3E5F6A7B8C
      recovery_point_arn: arn:aws:ec2:eu-central-1::snapshot/snap-0123456789abcdef0
      state: COMPLETED
running:
  description: Resources that already had a job under way into the vault (followed, not started again).
  returned: always
  type: list
  elements: str
protected:
  description: Resources that already had a recovery point in the vault (no job).
  returned: always
  type: list
  elements: str
changed:
  description: Whether a job was (or, in check mode, would be) started.
  returned: always
  type: bool
"""

import time  # noqa: E402
from typing import Any, Callable  # noqa: E402

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import aws_retry  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import (  # noqa: E402
    AutobuyAWSModule,
    ModuleFailure,
)

retry = aws_retry()

#: Recovery point states that mean the resource is (being) backed up in the vault.
PROTECTED_POINTS = frozenset({"COMPLETED", "PARTIAL", "CREATING"})
#: Job states still under way.
ACTIVE_JOBS = ("CREATED", "PENDING", "RUNNING")


def has_recovery_point(client: Any, vault: str, arn: str) -> bool:
    """Whether ``vault`` holds a usable (or forming) recovery point of ``arn``."""
    paginator = client.get_paginator("list_recovery_points_by_backup_vault")
    for page in retry(lambda: list(paginator.paginate(BackupVaultName=vault, ByResourceArn=arn)))():
        if any(p.get("Status") in PROTECTED_POINTS for p in page.get("RecoveryPoints", [])):
            return True
    return False


def active_jobs(client: Any, vault: str, arn: str) -> list[dict[str, Any]]:
    """Jobs of ``arn`` into ``vault`` still under way."""
    jobs = []
    for state in ACTIVE_JOBS:
        paginator = client.get_paginator("list_backup_jobs")
        pages = retry(lambda s=state: list(paginator.paginate(
            ByResourceArn=arn, ByState=s, ByBackupVaultName=vault)))()
        jobs.extend(job for page in pages for job in page.get("BackupJobs", []))
    return jobs


def validate(params: dict[str, Any]) -> None:
    """Refuse input that cannot mean anything, before any call."""
    bad = [arn for arn in params["resource_arns"] if not str(arn).startswith("arn:")]
    if bad:
        raise ModuleFailure(f"resource_arns must be ARNs; not ARNs: {', '.join(map(str, bad))}")
    if params["delete_after_days"] is not None and params["delete_after_days"] < 1:
        raise ModuleFailure("delete_after_days must be at least 1")
    if params["start_window_minutes"] < 60:
        raise ModuleFailure("start_window_minutes must be at least 60 (AWS Backup's minimum)")
    for name in ("complete_window_minutes", "wait_timeout", "poll_interval"):
        if params[name] < 1:
            raise ModuleFailure(f"{name} must be at least 1")


def start(client: Any, params: dict[str, Any], arn: str) -> dict[str, Any]:
    """Start one job; return its record."""
    args: dict[str, Any] = dict(
        BackupVaultName=params["backup_vault_name"], ResourceArn=arn,
        IamRoleArn=params["iam_role_arn"],
        StartWindowMinutes=params["start_window_minutes"],
        CompleteWindowMinutes=params["complete_window_minutes"],
    )
    if params["delete_after_days"] is not None:
        args["Lifecycle"] = {"DeleteAfterDays": params["delete_after_days"]}
    answer = retry(client.start_backup_job)(**args)
    return {"resource_arn": arn, "backup_job_id": answer["BackupJobId"],
            "recovery_point_arn": answer.get("RecoveryPointArn", ""), "state": "CREATED"}


def wait_for(client: Any, jobs: list[dict[str, Any]], timeout: float, interval: float,
             clock: Callable[[], float] = time.monotonic,
             sleep: Callable[[float], None] = time.sleep) -> None:
    """Follow ``jobs`` (updating their ``state``) until each has ended; fail on a job that
    ends other than COMPLETED, or when ``timeout`` seconds pass first."""
    deadline = clock() + timeout
    pending = [job for job in jobs if job["state"] in ACTIVE_JOBS]
    while pending:
        for job in pending:
            answer = retry(client.describe_backup_job)(BackupJobId=job["backup_job_id"])
            job["state"] = answer["State"]
            job["recovery_point_arn"] = answer.get("RecoveryPointArn", job["recovery_point_arn"])
            if job["state"] not in ACTIVE_JOBS and job["state"] != "COMPLETED":
                raise ModuleFailure(
                    f"Backup job {job['backup_job_id']} of {job['resource_arn']} ended "
                    f"{job['state']}: {answer.get('StatusMessage', 'no message')}")
        pending = [job for job in pending if job["state"] in ACTIVE_JOBS]
        if not pending:
            return
        if clock() >= deadline:
            raise ModuleFailure(
                f"Backup jobs still under way after {timeout:g} s: "
                + ", ".join(f"{j['backup_job_id']} ({j['resource_arn']}, {j['state']})"
                            for j in pending))
        sleep(interval)


def ensure(client: Any, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    """Start (or, in check mode, list) the jobs the resources need; wait when asked."""
    validate(params)
    vault = params["backup_vault_name"]
    started: list[dict[str, Any]] = []
    running: list[dict[str, Any]] = []
    protected: list[str] = []
    for arn in dict.fromkeys(params["resource_arns"]):
        if has_recovery_point(client, vault, arn):
            protected.append(arn)
            continue
        under_way = active_jobs(client, vault, arn)
        if under_way:
            running.extend({"resource_arn": arn, "backup_job_id": job["BackupJobId"],
                            "recovery_point_arn": job.get("RecoveryPointArn", ""),
                            "state": job["State"]} for job in under_way)
        elif check_mode:
            started.append({"resource_arn": arn, "state": "NOT_STARTED"})
        else:
            started.append(start(client, params, arn))
    if params["wait"] and not check_mode:
        wait_for(client, started + running, params["wait_timeout"], params["poll_interval"])
    return {"changed": bool(started), "started": started,
            "running": sorted({job["resource_arn"] for job in running}), "protected": protected}


def argument_spec() -> dict[str, Any]:
    return dict(
        backup_vault_name=dict(type="str", required=True),
        resource_arns=dict(type="list", elements="str", required=True),
        iam_role_arn=dict(type="str", required=True),
        delete_after_days=dict(type="int"),
        start_window_minutes=dict(type="int", default=60),
        complete_window_minutes=dict(type="int", default=180),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
        poll_interval=dict(type="int", default=15),
    )


def main() -> None:
    module = AutobuyAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.run("backup", ensure, f"Could not back up into vault {module.params['backup_vault_name']}")


if __name__ == "__main__":
    main()
