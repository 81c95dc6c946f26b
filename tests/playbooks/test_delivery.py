"""playbooks/delivery.yml: GitHub Actions' OIDC provider and the deploy role, scoped to the stack."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from provision_helpers import (  # type: ignore[import-not-found]
    changed_tasks,
    client,
    private_cloud,
    run_playbook,
    web_extra,
)

pytestmark = [pytest.mark.slow, pytest.mark.playbook, pytest.mark.localcloud]

GITHUB = {"autobuy_github_owner": "example-org", "autobuy_github_repository": "autobuy-guard"}
ISSUER = "token.actions.githubusercontent.com"
ROLE = "taskapp-github-deploy"
POLICY = "taskapp-deploy-this-stack"


def providers(url: str) -> list[str]:
    return [p["Arn"] for p in client("iam", url).list_open_id_connect_providers()["OpenIDConnectProviderList"]]


def role_names(url: str) -> set[str]:
    return {r["RoleName"] for r in client("iam", url).list_roles()["Roles"]}


def trust(url: str) -> dict[str, Any]:
    doc = client("iam", url).get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    return doc if isinstance(doc, dict) else json.loads(doc)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A stack without delivery tier, then the tier in check mode, then for real."""
    with private_cloud(tmp_path_factory.mktemp("delivery") / "localcloud.log") as url:
        # Without a repository to trust, the tier creates nothing.
        run = run_playbook("site.yml", url, extra=web_extra(tmp_path_factory.mktemp("web")))
        assert run.returncode == 0 and run.recap["failed"] == 0, run.output[-4000:]
        assert providers(url) == [] and ROLE not in role_names(url)
        # check mode first: it reports the changes and makes none
        check = run_playbook("playbooks/delivery.yml", url, "--check", extra=GITHUB)
        assert check.returncode == 0, check.output[-4000:]
        assert check.recap["changed"] >= 2, changed_tasks(check.output)
        assert providers(url) == [] and ROLE not in role_names(url)
        run = run_playbook("playbooks/delivery.yml", url, extra=GITHUB)
        assert run.returncode == 0, run.output[-4000:]
        yield url


def test_the_provider_trusts_github_for_sts(cloud: str) -> None:
    (arn,) = providers(cloud)
    assert arn.endswith(f":oidc-provider/{ISSUER}")
    got = client("iam", cloud).get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["ClientIDList"] == ["sts.amazonaws.com"]
    assert got["Url"].rstrip("/").endswith(ISSUER)


def test_the_role_trusts_only_this_repository_and_branch(cloud: str) -> None:
    (arn,) = providers(cloud)
    (statement,) = trust(cloud)["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Federated": arn}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {"StringEquals": {
        f"{ISSUER}:aud": "sts.amazonaws.com",
        f"{ISSUER}:sub": "repo:example-org/autobuy-guard:ref:refs/heads/main",
    }}


def test_the_policy_is_scoped_to_this_stack(cloud: str) -> None:
    doc = client("iam", cloud).get_role_policy(RoleName=ROLE, PolicyName=POLICY)["PolicyDocument"]
    doc = doc if isinstance(doc, dict) else json.loads(doc)
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    account = client("sts", cloud).get_caller_identity()["Account"]
    assert by_sid["EcrPushThisRepository"]["Resource"] == \
        f"arn:aws:ecr:eu-central-1:{account}:repository/taskapp-backend"
    assert "ecr:PutImage" in by_sid["EcrPushThisRepository"]["Action"]
    lt_id = client("ec2", cloud).describe_launch_templates(
        LaunchTemplateNames=["taskapp-backend-lt"])["LaunchTemplates"][0]["LaunchTemplateId"]
    assert by_sid["NewVersionsOfThisLaunchTemplate"]["Resource"] == \
        f"arn:aws:ec2:eu-central-1:{account}:launch-template/{lt_id}"
    assert by_sid["RefreshThisGroup"]["Resource"].endswith(
        ":autoScalingGroupName/taskapp-backend-asg")
    assert "autoscaling:StartInstanceRefresh" in by_sid["RefreshThisGroup"]["Action"]
    # the refreshed instances' new volumes are backed up into the stack's vault only
    assert by_sid["BackUpTheNewVolumesIntoThisVault"]["Resource"] == \
        f"arn:aws:backup:eu-central-1:{account}:backup-vault:taskapp-backups"
    assert by_sid["PassOnlyTheBackupRole"]["Resource"] == f"arn:aws:iam::{account}:role/taskapp-backup"
    assert by_sid["PassOnlyTheBackupRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}}
    # only the reads and the ECR login (not scopable in IAM) use a wildcard resource
    wildcard = {s["Sid"] for s in doc["Statement"] if s["Resource"] == "*" and "Condition" not in s}
    assert wildcard == {"EcrLogin", "ReadsOfTheDeployPlaybook"}
    for sid in wildcard:
        actions = by_sid[sid]["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        assert all(a == "ecr:GetAuthorizationToken" or ":Describe" in a for a in actions), actions


def test_a_second_run_changes_nothing(cloud: str) -> None:
    run = run_playbook("playbooks/delivery.yml", cloud, extra=GITHUB)
    assert run.returncode == 0 and run.recap["changed"] == 0, changed_tasks(run.output)


def test_an_environment_replaces_the_branch_and_check_mode_tells(cloud: str) -> None:
    extra = {**GITHUB, "autobuy_github_environment": "production"}
    before = trust(cloud)
    check = run_playbook("playbooks/delivery.yml", cloud, "--check", extra=extra)
    assert check.returncode == 0 and check.recap["changed"] == 1, changed_tasks(check.output)
    assert trust(cloud) == before
    run = run_playbook("playbooks/delivery.yml", cloud, extra=extra)
    assert run.returncode == 0 and run.recap["changed"] == 1, changed_tasks(run.output)
    (statement,) = trust(cloud)["Statement"]
    assert statement["Condition"]["StringEquals"][f"{ISSUER}:sub"] == \
        "repo:example-org/autobuy-guard:environment:production"
    # back to the branch for the other tests
    assert run_playbook("playbooks/delivery.yml", cloud, extra=GITHUB).returncode == 0


def test_teardown_removes_role_and_provider(cloud: str) -> None:
    run = run_playbook("teardown.yml", cloud, "--tags", "delivery")
    assert run.returncode == 0 and run.recap["changed"] == 2, run.output[-4000:]
    assert providers(cloud) == [] and ROLE not in role_names(cloud)
    again = run_playbook("teardown.yml", cloud, "--tags", "delivery")
    assert again.returncode == 0 and again.recap["changed"] == 0, changed_tasks(again.output)
