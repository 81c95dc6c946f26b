"""Preflight: bad stack variables fail before any API call, naming the variable."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from ansible.plugins.loader import init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig
from provision_helpers import ROOT, calls, private_cloud, STACK_FILE, calls, private_cloud, reset_calls, run_playbook, stack_defaults
from provision_helpers import ROOT, STACK_FILE, calls, private_cloud, reset_calls, run_playbook, stack_defaults
# The filter as Ansible imports it: through the collection loader (ansible.cfg's collections path).
if AnsibleCollectionConfig.collection_finder is None:
    init_plugin_loader([str(ROOT / "collections")])
from ansible_collections.autobuy.guard.plugins.filter import autobuy_preflight as preflight  # noqa: E402

STACK = STACK_FILE


def test_the_seed_values_are_valid() -> None:
    assert preflight.autobuy_stack_errors(stack_defaults()) == []


def test_local_symlink_points_at_the_one_stack_file() -> None:
    local = ROOT / "inventories" / "local" / "group_vars" / "all" / "stack.yml"
    assert local.is_symlink()
    assert local.resolve() == STACK.resolve()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"autobuy_vpc_cidr": "10.0.0.0/33"}, "autobuy_vpc_cidr"),
        ({"autobuy_domain": "not a domain"}, "autobuy_domain"),
        ({"autobuy_asg_min_size": 4}, "autobuy_asg_min_size (4) must not exceed autobuy_asg_max_size (3)"),
        ({"autobuy_asg_desired_capacity": 5}, "autobuy_asg_desired_capacity"),
        ({"autobuy_admin_cidr": "0.0.0.0/0"}, "autobuy_admin_cidr"),
        ({"autobuy_log_retention_days": 31}, "autobuy_log_retention_days"),
        ({"autobuy_health_check_timeout": 30}, "autobuy_health_check_timeout (30) must be less than"),
        ({"autobuy_region": "europe"}, "autobuy_region"),
        ({"autobuy_concurrent": "false"}, "autobuy_concurrent"),
        ({"autobuy_backup_retention_days": 0}, "autobuy_backup_retention_days"),
        ({"autobuy_backup_schedule": "daily"}, "autobuy_backup_schedule"),
        ({"autobuy_backup_vault_name": ""}, "autobuy_backup_vault_name"),
        ({"autobuy_backup_volume_selection_name": "volumes of taskapp"}, "autobuy_backup_volume_selection_name"),
        ({"autobuy_backup_volume_tag_key": "aws:backup"}, "autobuy_backup_volume_tag_key must be an EC2 tag key"),
        ({"autobuy_backup_volume_tag_value": ""}, "autobuy_backup_volume_tag_value must be a tag value"),
        ({"autobuy_backup_volumes_wait_timeout": -1}, "autobuy_backup_volumes_wait_timeout must be an integer from 0"),
        ({"autobuy_secret_admin_arns": ["arn:aws:iam::123456789012:role/*"]}, "autobuy_secret_admin_arns"),
        ({"autobuy_secret_admin_arns": "arn:aws:iam::123456789012:role/admin"}, "autobuy_secret_admin_arns"),
        ({"autobuy_alerts_from": "alerts"}, "autobuy_alerts_from must be an e-mail address"),
        ({"autobuy_alerts_from": "alerts@elsewhere.example"}, "must be an address of autobuy_mail_domain"),
        ({"autobuy_web_bucket": "autobuyguard.store-web"}, "autobuy_web_bucket must be an S3 bucket name"),
        ({"autobuy_web_aliases": ["www.elsewhere.example"]}, "is not in the zone autobuyguard.store"),
        ({"autobuy_web_aliases": []}, "autobuy_web_aliases must be a non-empty list"),
        ({"autobuy_trail_bucket": "Trail_Logs"}, "autobuy_trail_bucket must be an S3 bucket name"),
        ({"autobuy_trail_access_log_bucket": "autobuyguard-store-cloudtrail"},
         "autobuy_trail_access_log_bucket must differ from autobuy_trail_bucket"),
        ({"autobuy_trail_log_retention_days": 31}, "autobuy_trail_log_retention_days must be one of"),
        ({"autobuy_trail_kms_alias": "taskapp-trail"}, "autobuy_trail_kms_alias must be a KMS alias"),
        ({"autobuy_trail_log_group": "cloudtrail"}, "autobuy_trail_log_group must be a log group path"),
        ({"autobuy_trail_metric_namespace": "AWS/CloudTrail"}, "autobuy_trail_metric_namespace must be"),
        ({"autobuy_trail_name": ""}, "autobuy_trail_name must be a non-empty name"),
        ({"autobuy_web_price_class": "all"}, "autobuy_web_price_class must be one of"),
        ({"autobuy_web_assets_max_age": -1}, "autobuy_web_assets_max_age"),
        ({"autobuy_web_csp": "default-src 'self'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"},
         "must not allow 'unsafe-inline' scripts"),
        ({"autobuy_web_csp": "default-src 'self'"}, "must hold frame-ancestors 'none'"),
        ({"autobuy_web_content_types": {"js": "text/javascript"}}, "autobuy_web_content_types must map"),
        ({"autobuy_imds_hop_limit": 0}, "autobuy_imds_hop_limit"),
        ({"autobuy_nat_ami_architecture": "amd64"}, "autobuy_nat_ami_architecture must be arm64 or x86_64"),
        ({"autobuy_nat_instance_type": "t3.nano"}, "autobuy_nat_ami_architecture arm64 does not run on"),
        ({"autobuy_nat_ami_name_filter": ""}, "autobuy_nat_ami_name_filter must be a non-empty string"),
        ({"autobuy_db_rotation_days": 1001}, "autobuy_db_rotation_days must be an integer from 0 to 1000"),
        ({"autobuy_db_rotation_timeout": 901}, "autobuy_db_rotation_timeout"),
        ({"autobuy_jwt_rotation_days": -1}, "autobuy_jwt_rotation_days must be an integer from 0 to 1000"),
        ({"autobuy_jwt_rotation_timeout": 901}, "autobuy_jwt_rotation_timeout"),
        ({"autobuy_instance_endpoint_url": "localhost:4566"}, "autobuy_instance_endpoint_url"),
        ({"autobuy_dev_signin": "yes"}, "autobuy_dev_signin must be true or false"),
        ({"autobuy_dev_signin": True, "aws_endpoint_url": None}, "autobuy_dev_signin must be false on AWS"),
        ({"autobuy_stripe_api_url": "api.stripe.com"}, "autobuy_stripe_api_url must be an http(s) URL"),
        ({"autobuy_stripe_api_url": "http://stripe.twin.internal/stripe", "aws_endpoint_url": None},
         "autobuy_stripe_api_url must use https on AWS"),
        ({"autobuy_site_url": "https://autobuyguard.store/account"}, "autobuy_site_url must be an http(s) origin"),
        ({"autobuy_url_allow_hosts": ["shop:x"]}, "autobuy_url_allow_hosts must be a list"),
        ({"autobuy_url_allow_hosts": ["demo-shop.twin.internal:8000"], "aws_endpoint_url": None},
         "autobuy_url_allow_hosts must be empty on AWS"),
    ],
)
def test_filter_names_the_bad_variable(change: dict[str, Any], expected: str) -> None:
    errors = preflight.autobuy_stack_errors({**stack_defaults(), **change})
    assert any(expected in e for e in errors), errors


def test_overlap_and_outside_subnets_are_both_reported() -> None:
    values = stack_defaults()
    values["autobuy_private_subnets"] = [
        {"name": "a", "cidr": "10.0.1.128/25", "az": "eu-central-1a"},  # overlaps Public-1a
        {"name": "b", "cidr": "10.9.0.0/24", "az": "eu-central-1b"},  # outside the VPC
    ]
    errors = preflight.autobuy_stack_errors(values)
    assert any("autobuy_private_subnets[0].cidr 10.0.1.128/25 overlaps autobuy_public_subnets[0].cidr"
               in e for e in errors), errors
    assert any("autobuy_private_subnets[1].cidr 10.9.0.0/24 is outside autobuy_vpc_cidr" in e
               for e in errors), errors


def test_an_availability_zone_of_another_region_is_refused() -> None:
    values = stack_defaults()
    values["autobuy_public_subnets"][0]["az"] = "us-east-1a"
    errors = preflight.autobuy_stack_errors(values)
    assert any(e.startswith("autobuy_public_subnets[0].az 'us-east-1a'") for e in errors), errors


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with private_cloud(tmp_path_factory.mktemp("preflight") / "localcloud.log") as url:
        yield url


BAD_VARIABLES = [
    pytest.param(
        {"autobuy_private_subnets": [
            {"name": "p1", "cidr": "10.0.1.0/24", "az": "eu-central-1a"},
            {"name": "p2", "cidr": "10.0.4.0/24", "az": "eu-central-1b"}]},
        "autobuy_private_subnets[0].cidr 10.0.1.0/24 overlaps autobuy_public_subnets[0].cidr",
        id="overlapping-cidr"),
    pytest.param(
        {"autobuy_public_subnets": [
            {"name": "p1", "cidr": "192.168.1.0/24", "az": "eu-central-1a"},
            {"name": "p2", "cidr": "10.0.2.0/24", "az": "eu-central-1b"}]},
        "autobuy_public_subnets[0].cidr 192.168.1.0/24 is outside autobuy_vpc_cidr 10.0.0.0/16",
        id="subnet-outside-vpc"),
    pytest.param({"autobuy_asg_min_size": 3, "autobuy_asg_max_size": 2},
                 "autobuy_asg_min_size (3) must not exceed autobuy_asg_max_size (2)", id="min-above-max"),
    pytest.param({"autobuy_domain": "autobuy_guard"}, "autobuy_domain is not a valid domain name",
                 id="invalid-domain"),
]


@pytest.mark.slow
@pytest.mark.playbook
@pytest.mark.localcloud  # a private one, started by the cloud fixture
@pytest.mark.parametrize(("variables", "message"), BAD_VARIABLES)
@pytest.mark.parametrize("playbook", ["site.yml", "playbooks/network.yml"])
def test_bad_variables_fail_before_any_api_call(
    cloud: str, playbook: str, variables: dict[str, Any], message: str
) -> None:
    reset_calls(cloud)
    run = run_playbook(playbook, cloud, extra=variables)
    assert run.returncode != 0
    assert message in " ".join(run.output.split()), run.output[-3000:]
    assert calls(cloud)["total"] == 0, calls(cloud)


@pytest.mark.slow
@pytest.mark.playbook
@pytest.mark.localcloud  # a private one, started by the cloud fixture
def test_a_tier_run_alone_is_validated_too(cloud: str) -> None:
    reset_calls(cloud)
    run = run_playbook("site.yml", cloud, "--tags", "compute", extra={"autobuy_asg_max_size": 0})
    assert run.returncode != 0
    assert "autobuy_asg_min_size (1) must not exceed autobuy_asg_max_size (0)" in run.output
    assert calls(cloud)["total"] == 0

