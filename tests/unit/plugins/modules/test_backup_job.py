"""backup_job: on-demand AWS Backup jobs for resources without a recovery point.

Against the local cloud (its jobs complete after 60 s x LOCALCLOUD_TIME_SCALE, 0.6 s by
default; 6 s on the running-job test's own cloud): a job per volume without a recovery point, none for one with it, check mode
starting nothing, a running job followed rather than started again. The wait's timeout
and a failed job are driven by a fake client (the local cloud's jobs always complete).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from ansible_collections.autobuy.guard.plugins.modules import backup_job as m
from plugin_harness import ModuleFailed, run_module  # type: ignore[import-not-found]

ACCOUNT = "123456789012"
REGION = "eu-central-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/taskapp-backup"


def run(args: dict[str, Any], monkeypatch: pytest.MonkeyPatch, check: bool = False) -> dict[str, Any]:
    return run_module(m, {"iam_role_arn": ROLE, "poll_interval": 1, "wait_timeout": 60, **args},
                      check_mode=check, monkeypatch=monkeypatch)


def new_vault() -> str:
    name = f"vault-{uuid.uuid4().hex[:8]}"
    boto3.client("backup").create_backup_vault(BackupVaultName=name)
    return name


def new_volume() -> str:
    volume = boto3.client("ec2").create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{volume}"


def points(vault: str, arn: str | None = None) -> list[dict[str, Any]]:
    args = {"ByResourceArn": arn} if arn else {}
    return boto3.client("backup").list_recovery_points_by_backup_vault(
        BackupVaultName=vault, **args)["RecoveryPoints"]


def jobs(arn: str) -> list[dict[str, Any]]:
    return boto3.client("backup").list_backup_jobs(ByResourceArn=arn)["BackupJobs"]


def test_each_volume_without_a_recovery_point_gets_one_job(localcloud: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    vault, volumes = new_vault(), [new_volume(), new_volume()]
    result = run({"backup_vault_name": vault, "resource_arns": volumes,
                  "delete_after_days": 7}, monkeypatch)
    assert result["changed"] is True and result["protected"] == [] and result["running"] == []
    assert sorted(j["resource_arn"] for j in result["started"]) == sorted(volumes)
    assert {j["state"] for j in result["started"]} == {"COMPLETED"}
    for volume in volumes:
        (point,) = points(vault, volume)
        assert point["Status"] == "COMPLETED" and point["Lifecycle"] == {"DeleteAfterDays": 7}
        snapshot_id = point["RecoveryPointArn"].rsplit("/", 1)[1]
        (snapshot,) = boto3.client("ec2").describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]
        assert snapshot["VolumeId"] == volume.rsplit("/", 1)[1]

    again = run({"backup_vault_name": vault, "resource_arns": volumes,
                 "delete_after_days": 7}, monkeypatch)
    assert again["changed"] is False and again["started"] == []
    assert sorted(again["protected"]) == sorted(volumes)
    assert all(len(jobs(volume)) == 1 for volume in volumes)


def test_only_the_new_volume_gets_a_job(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    vault, old = new_vault(), new_volume()
    run({"backup_vault_name": vault, "resource_arns": [old]}, monkeypatch)
    new = new_volume()
    result = run({"backup_vault_name": vault, "resource_arns": [old, new]}, monkeypatch)
    assert [j["resource_arn"] for j in result["started"]] == [new]
    assert result["protected"] == [old]
    assert len(points(vault)) == 2


def test_a_recovery_point_in_another_vault_does_not_count(localcloud: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    other, vault, volume = new_vault(), new_vault(), new_volume()
    run({"backup_vault_name": other, "resource_arns": [volume]}, monkeypatch)
    result = run({"backup_vault_name": vault, "resource_arns": [volume]}, monkeypatch)
    assert result["changed"] is True and len(points(vault, volume)) == 1


def test_check_mode_reports_and_starts_nothing(localcloud: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    vault, volume = new_vault(), new_volume()
    result = run({"backup_vault_name": vault, "resource_arns": [volume]}, monkeypatch, check=True)
    assert result["changed"] is True
    assert result["started"] == [{"resource_arn": volume, "state": "NOT_STARTED"}]
    assert jobs(volume) == [] and points(vault) == []
    run({"backup_vault_name": vault, "resource_arns": [volume]}, monkeypatch)
    checked = run({"backup_vault_name": vault, "resource_arns": [volume]}, monkeypatch, check=True)
    assert checked["changed"] is False and checked["protected"] == [volume]


@pytest.fixture
def slow_jobs(own_localcloud: Callable[[dict[str, str]], str]) -> str:
    """A local cloud of this test's own whose backup jobs take 6 s (LOCALCLOUD_TIME_SCALE
    0.1, not the session cloud's 0.6 s): long enough to find a job still running on a
    loaded machine (the second run came after the 0.6 s job had completed, once, in CI)."""
    return own_localcloud({"LOCALCLOUD_TIME_SCALE": "0.1"})


def test_a_running_job_is_followed_not_started_again(slow_jobs: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    vault, volume = new_vault(), new_volume()
    first = run({"backup_vault_name": vault, "resource_arns": [volume], "wait": False}, monkeypatch)
    assert first["changed"] is True and first["started"][0]["state"] == "CREATED"
    result = run({"backup_vault_name": vault, "resource_arns": [volume]}, monkeypatch)
    assert result["changed"] is False and result["running"] == [volume]
    assert len(jobs(volume)) == 1 and points(vault, volume)[0]["Status"] == "COMPLETED"


def test_an_empty_list_does_nothing(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run({"backup_vault_name": new_vault(), "resource_arns": []}, monkeypatch)
    assert result == {**result, "changed": False, "started": [], "running": [], "protected": []}


@pytest.mark.parametrize(("args", "message"), [
    ({"resource_arns": ["vol-0123456789abcdef0"]}, "resource_arns must be ARNs; not ARNs: vol-0123456789abcdef0"),
    ({"delete_after_days": 0}, "delete_after_days must be at least 1"),
    ({"start_window_minutes": 30}, "start_window_minutes must be at least 60"),
    ({"wait_timeout": 0}, "wait_timeout must be at least 1"),
])
def test_bad_input_fails_before_any_call(args: dict[str, Any], message: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed) as failed:
        run({"backup_vault_name": "v", "resource_arns": [], **args}, monkeypatch)
    assert message in failed.value.result["msg"]


def test_a_missing_vault_fails_with_its_code(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed) as failed:
        run({"backup_vault_name": "no-such-vault", "resource_arns": [new_volume()]}, monkeypatch)
    assert "ResourceNotFoundException" in failed.value.result["msg"]
    assert "no-such-vault" in failed.value.result["msg"]


class FakeBackup:
    """describe_backup_job answering the given states in turn."""

    def __init__(self, states: list[str]) -> None:
        self.states = states
        self.reads = 0

    def describe_backup_job(self, BackupJobId: str) -> dict[str, Any]:  # noqa: N803 - boto3's name
        state = self.states[min(self.reads, len(self.states) - 1)]
        self.reads += 1
        return {"BackupJobId": BackupJobId, "State": state, "StatusMessage": "role cannot read the volume"}


def job() -> dict[str, Any]:
    return {"resource_arn": "arn:aws:ec2:eu-central-1:123456789012:volume/vol-1",
            "backup_job_id": "JOB-1", "recovery_point_arn": "", "state": "CREATED"}


def test_the_wait_fails_after_its_timeout() -> None:
    now = [0.0]
    client = FakeBackup(["RUNNING"])
    with pytest.raises(m.ModuleFailure, match=r"still under way after 30 s: JOB-1 \(.*vol-1, RUNNING\)"):
        m.wait_for(client, [job()], 30, 10, clock=lambda: now[0],
                   sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert client.reads == 4  # at 0, 10, 20, 30 s


def test_the_wait_fails_on_a_failed_job() -> None:
    with pytest.raises(m.ModuleFailure, match="JOB-1 of .*vol-1 ended FAILED: role cannot read the volume"):
        m.wait_for(FakeBackup(["RUNNING", "FAILED"]), [job()], 30, 1, sleep=lambda s: None)


def test_the_wait_ends_when_the_job_completes() -> None:
    followed = [job()]
    m.wait_for(FakeBackup(["PENDING", "RUNNING", "COMPLETED"]), followed, 30, 1, sleep=lambda s: None)
    assert followed[0]["state"] == "COMPLETED"
