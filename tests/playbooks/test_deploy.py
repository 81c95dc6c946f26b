"""playbooks/deploy.yml: a new image tag rolls the group by instance refresh, once."""
from __future__ import annotations

import base64
import hashlib
import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from provision_helpers import (  # type: ignore[import-not-found]
    changed_tasks,
    client,
    private_cloud,
    run_playbook,
    web_extra,
)

pytestmark = [pytest.mark.slow, pytest.mark.playbook, pytest.mark.localcloud]

ASG = "taskapp-backend-asg"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with private_cloud(tmp_path_factory.mktemp("deploy") / "localcloud.log") as url:
        run = run_playbook("site.yml", url, extra=web_extra(tmp_path_factory.mktemp("web")))
        assert run.returncode == 0 and run.recap["failed"] == 0, run.output[-4000:]
        # deploy.yml only rolls out tags the registry holds: these tests' images
        for tag in ("latest", "v2"):
            push_image(url, tag)
        yield url


def push_image(url: str, tag: str) -> None:
    """Record an image with TAG in the stack's ECR repository (a manifest of its own)."""
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": 2, "digest": "sha256:" + hashlib.sha256(tag.encode()).hexdigest()},
        "layers": [],
    })
    client("ecr", url).put_image(repositoryName="taskapp-backend", imageManifest=manifest, imageTag=tag)


def instances(url: str) -> dict[str, str]:
    """Instance id -> launch template version of the group's instances."""
    group = client("autoscaling", url).describe_auto_scaling_groups(
        AutoScalingGroupNames=[ASG])["AutoScalingGroups"][0]
    return {i["InstanceId"]: i["LaunchTemplate"]["Version"] for i in group["Instances"]}


def image_in_user_data(url: str, version: int) -> str:
    """The image the user data of launch template VERSION pulls and runs (IMAGE=...)."""
    data = client("ec2", url).describe_launch_template_versions(
        LaunchTemplateName="taskapp-backend-lt", Versions=[str(version)],
    )["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    script = base64.b64decode(data["UserData"]).decode()
    (line,) = [x for x in script.splitlines() if x.startswith("IMAGE=")]
    return shlex.split(line.partition("=")[2])[0]


def test_nothing_to_replace_changes_nothing(cloud: str) -> None:
    before = instances(cloud)
    run = run_playbook("playbooks/deploy.yml", cloud)
    assert run.returncode == 0, run.output[-4000:]
    assert run.recap["changed"] == 0, changed_tasks(run.output)
    assert instances(cloud) == before


def test_new_tag_replaces_every_instance_then_settles(cloud: str) -> None:
    before = instances(cloud)
    run = run_playbook("playbooks/deploy.yml", cloud, extra={"autobuy_image_tag": "v2"})
    assert run.returncode == 0, run.output[-4000:]
    assert "Successful" in run.output
    after = instances(cloud)
    assert after and not set(after) & set(before), (before, after)
    lt = client("ec2", cloud).describe_launch_templates(
        LaunchTemplateNames=["taskapp-backend-lt"])["LaunchTemplates"][0]
    assert set(after.values()) == {str(lt["LatestVersionNumber"])}
    # the version every instance now runs boots the new tag; the one they ran did not
    new_image = image_in_user_data(cloud, lt["LatestVersionNumber"])
    assert new_image.endswith("/taskapp-backend:v2"), new_image
    (old_version,) = set(before.values())
    assert image_in_user_data(cloud, int(old_version)).endswith("/taskapp-backend:latest")
    again = run_playbook("playbooks/deploy.yml", cloud, extra={"autobuy_image_tag": "v2"})
    assert again.returncode == 0 and again.recap["changed"] == 0, changed_tasks(again.output)
    assert instances(cloud) == after


def test_the_refreshed_instances_volumes_are_backed_up_by_the_deploy(cloud: str) -> None:
    """After test_new_tag_replaces_every_instance_then_settles: the refresh's new instances
    have new volumes, and deploy.yml backed each up (one COMPLETED recovery point in the
    stack's vault), not the next 03:00 run (docs/security.md, "Instance volumes")."""
    ec2, backup = client("ec2", cloud), client("backup", cloud)
    reservations = ec2.describe_instances(InstanceIds=list(instances(cloud)))["Reservations"]
    volumes = [m["Ebs"]["VolumeId"] for r in reservations for i in r["Instances"]
               for m in i["BlockDeviceMappings"]]
    assert volumes
    for volume in volumes:
        points = backup.list_recovery_points_by_backup_vault(
            BackupVaultName="taskapp-backups",
            ByResourceArn=f"arn:aws:ec2:eu-central-1:123456789012:volume/{volume}")["RecoveryPoints"]
        assert [p["Status"] for p in points] == ["COMPLETED"], volume


def test_unknown_strategy_is_refused(cloud: str) -> None:
    run = run_playbook("playbooks/deploy.yml", cloud, extra={"autobuy_deploy_strategy": "yolo"})
    assert run.returncode != 0
    assert "autobuy_deploy_strategy must be 'refresh' or 'in_place'" in run.output


def test_a_tag_the_registry_does_not_hold_is_refused_before_any_change(cloud: str) -> None:
    ec2 = client("ec2", cloud)
    versions = ec2.describe_launch_templates(
        LaunchTemplateNames=["taskapp-backend-lt"])["LaunchTemplates"][0]["LatestVersionNumber"]
    before = instances(cloud)
    run = run_playbook("playbooks/deploy.yml", cloud, extra={"autobuy_image_tag": "never-pushed"})
    assert run.returncode != 0
    assert "Image taskapp-backend:never-pushed is not in the registry" in run.output
    assert run.recap["changed"] == 0, changed_tasks(run.output)
    assert ec2.describe_launch_templates(
        LaunchTemplateNames=["taskapp-backend-lt"])["LaunchTemplates"][0]["LatestVersionNumber"] == versions
    assert instances(cloud) == before
