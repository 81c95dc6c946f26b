"""The audit trail tier alone on an empty local cloud: the multi-region trail (log file
validation, KMS key of ours, private bucket only the trail writes to with its access
logged, CloudWatch Logs delivery by a role trusting CloudTrail for this account only), the CIS metric filters
with an alarm each on the alerts topic; idempotence, check mode, teardown (twice).

The expected filters are CIS's (section 4.1-4.15 of the AWS Foundations Benchmark): each
must count an event CIS names and leave alike events alone, asked of the local cloud's
``TestMetricFilter`` (localcloud/ext/fidelity/logs_test_metric_filter.py) on sample
CloudTrail events. The tests run in file order.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from provision_helpers import ROOT, Run, client, private_cloud, run_playbook, stack_defaults

pytestmark = [pytest.mark.slow, pytest.mark.playbook, pytest.mark.localcloud]

STACK = stack_defaults()
ACCOUNT = "123456789012"
REGION = "eu-central-1"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{STACK['autobuy_trail_name']}"

# One CloudTrail event CIS wants counted per filter, by the name of its alarm.
CIS = {
    "taskapp-cis-unauthorized-api-calls": {"errorCode": "AccessDenied", "eventName": "GetObject",
                                           "sourceIPAddress": "203.0.113.9"},
    "taskapp-cis-console-sign-in-without-mfa": {
        "eventName": "ConsoleLogin", "additionalEventData": {"MFAUsed": "No"},
        "userIdentity": {"type": "IAMUser"}, "responseElements": {"ConsoleLogin": "Success"}},
    "taskapp-cis-root-usage": {"userIdentity": {"type": "Root"}, "eventType": "AwsApiCall",
                               "eventName": "CreateAccessKey"},
    "taskapp-cis-iam-policy-changes": {"eventName": "AttachRolePolicy"},
    "taskapp-cis-cloudtrail-changes": {"eventName": "StopLogging"},
    "taskapp-cis-console-auth-failures": {"eventName": "ConsoleLogin",
                                          "errorMessage": "Failed authentication"},
    "taskapp-cis-kms-key-disabled-or-deleted": {"eventSource": "kms.amazonaws.com",
                                                "eventName": "ScheduleKeyDeletion"},
    "taskapp-cis-s3-bucket-policy-changes": {"eventSource": "s3.amazonaws.com",
                                             "eventName": "PutBucketPolicy"},
    "taskapp-cis-config-changes": {"eventSource": "config.amazonaws.com",
                                   "eventName": "StopConfigurationRecorder"},
    "taskapp-cis-security-group-changes": {"eventName": "AuthorizeSecurityGroupIngress"},
    "taskapp-cis-network-acl-changes": {"eventName": "ReplaceNetworkAclEntry"},
    "taskapp-cis-network-gateway-changes": {"eventName": "AttachInternetGateway"},
    "taskapp-cis-route-table-changes": {"eventSource": "ec2.amazonaws.com", "eventName": "CreateRoute"},
    "taskapp-cis-vpc-changes": {"eventName": "ModifyVpcAttribute"},
    "taskapp-cis-organizations-changes": {"eventSource": "organizations.amazonaws.com",
                                          "eventName": "LeaveOrganization"},
}
# Alike events the filter must not count: an ordinary read, a sign-in with MFA, a
# service acting for the root user, a refused HeadBucket, the same name from another service.
NOT_COUNTED = {
    "taskapp-cis-unauthorized-api-calls": {"errorCode": "AccessDenied", "eventName": "HeadBucket",
                                           "sourceIPAddress": "203.0.113.9"},
    "taskapp-cis-console-sign-in-without-mfa": {
        "eventName": "ConsoleLogin", "additionalEventData": {"MFAUsed": "Yes"},
        "userIdentity": {"type": "IAMUser"}, "responseElements": {"ConsoleLogin": "Success"}},
    "taskapp-cis-root-usage": {"userIdentity": {"type": "Root", "invokedBy": "s3.amazonaws.com"},
                               "eventType": "AwsApiCall", "eventName": "PutObject"},
    "taskapp-cis-iam-policy-changes": {"eventName": "GetRolePolicy"},
    "taskapp-cis-console-auth-failures": {"eventName": "ConsoleLogin"},
    "taskapp-cis-kms-key-disabled-or-deleted": {"eventSource": "kms.amazonaws.com", "eventName": "Decrypt"},
    "taskapp-cis-security-group-changes": {"eventName": "DescribeSecurityGroups"},
    "taskapp-cis-route-table-changes": {"eventSource": "ec2.amazonaws.com", "eventName": "DescribeRouteTables"},
    "taskapp-cis-organizations-changes": {"eventSource": "s3.amazonaws.com", "eventName": "AttachPolicy"},
}
ALARMS = yaml.safe_load((ROOT / "playbooks" / "vars" / "trail_alarms.yml").read_text())["autobuy_trail_alarms"]


class Cloud:
    def __init__(self, url: str, cold: Run) -> None:
        self.url, self.cold = url, cold

    def client(self, service: str) -> Any:
        return client(service, self.url)

    def trail(self) -> dict[str, Any] | None:
        trails = self.client("cloudtrail").describe_trails()["trailList"]
        return next((t for t in trails if t["Name"] == STACK["autobuy_trail_name"]), None)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    with private_cloud(tmp_path_factory.mktemp("trail") / "localcloud.log") as url:
        yield Cloud(url, run_playbook("playbooks/trail.yml", url))


def assert_ok(run: Run, changed: int | None = None) -> None:
    assert run.returncode == 0, run.output[-4000:]
    if changed is not None:
        assert run.recap["changed"] == changed, run.output[-4000:]


def _document(policy: Any) -> dict[str, Any]:
    return json.loads(policy) if isinstance(policy, str) else policy


def test_converge_succeeds(cloud: Cloud) -> None:
    assert_ok(cloud.cold)
    assert cloud.cold.recap["changed"] >= 6


def test_trail_is_multi_region_validated_and_encrypted_with_our_key(cloud: Cloud) -> None:
    trail = cloud.trail()
    assert trail is not None
    assert trail["IsMultiRegionTrail"] is True
    assert trail["IncludeGlobalServiceEvents"] is True
    assert trail["LogFileValidationEnabled"] is True
    assert trail["S3BucketName"] == STACK["autobuy_trail_bucket"]
    key = cloud.client("kms").describe_key(KeyId=STACK["autobuy_trail_kms_alias"])["KeyMetadata"]
    assert trail["KmsKeyId"] == key["Arn"]
    assert key["KeyManager"] == "CUSTOMER"
    assert cloud.client("kms").get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    assert cloud.client("cloudtrail").get_trail_status(Name=trail["TrailARN"])["IsLogging"] is True


def test_only_cloudtrail_for_this_trail_may_encrypt_with_the_key(cloud: Cloud) -> None:
    kms = cloud.client("kms")
    key_id = kms.describe_key(KeyId=STACK["autobuy_trail_kms_alias"])["KeyMetadata"]["KeyId"]
    policy = _document(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    service = [s for s in policy["Statement"] if s["Principal"] == {"Service": "cloudtrail.amazonaws.com"}]
    assert service and all(s["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN for s in service)
    assert {a for s in service for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])} \
        == {"kms:GenerateDataKey*", "kms:DescribeKey"}


def test_bucket_is_private_and_only_the_trail_writes(cloud: Cloud) -> None:
    s3 = cloud.client("s3")
    bucket = STACK["autobuy_trail_bucket"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    policy = _document(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    writes = [s for s in policy["Statement"] if s["Effect"] == "Allow" and s["Action"] == "s3:PutObject"]
    assert [(w["Principal"], w["Resource"], w["Condition"]["StringEquals"]["aws:SourceArn"]) for w in writes] == [
        ({"Service": "cloudtrail.amazonaws.com"}, f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*", TRAIL_ARN)]
    denies = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert [d["Condition"] for d in denies] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_every_access_to_the_trail_bucket_is_logged_to_a_private_bucket(cloud: Cloud) -> None:
    s3 = cloud.client("s3")
    trail_bucket, access = STACK["autobuy_trail_bucket"], STACK["autobuy_trail_access_log_bucket"]
    assert s3.get_bucket_logging(Bucket=trail_bucket)["LoggingEnabled"] == {
        "TargetBucket": access, "TargetPrefix": trail_bucket + "/"}
    block = s3.get_public_access_block(Bucket=access)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    policy = _document(s3.get_bucket_policy(Bucket=access)["Policy"])
    (write,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert write["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert write["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws:s3:::{trail_bucket}"}


def test_trail_delivers_to_its_log_group_with_a_role_trusting_cloudtrail_only(cloud: Cloud) -> None:
    trail = cloud.trail()
    assert trail is not None
    group = STACK["autobuy_trail_log_group"]
    assert trail["CloudWatchLogsLogGroupArn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*"
    groups = cloud.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [(group, 365)]
    key = cloud.client("kms").describe_key(KeyId=STACK["autobuy_trail_kms_alias"])["KeyMetadata"]
    assert groups[0]["kmsKeyId"] == key["Arn"]
    iam = cloud.client("iam")
    role = iam.get_role(RoleName=STACK["autobuy_trail_logs_role_name"])["Role"]
    assert trail["CloudWatchLogsRoleArn"] == role["Arn"]
    (statement,) = _document(role["AssumeRolePolicyDocument"])["Statement"]
    assert statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    (name,) = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
    (grant,) = _document(iam.get_role_policy(RoleName=role["RoleName"], PolicyName=name)[
        "PolicyDocument"])["Statement"]
    assert sorted(grant["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert grant["Resource"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:log-stream:*"


def test_each_cis_filter_has_an_alarm_on_the_alerts_topic(cloud: Cloud) -> None:
    filters = cloud.client("logs").describe_metric_filters(
        logGroupName=STACK["autobuy_trail_log_group"])["metricFilters"]
    assert sorted(f["filterName"] for f in filters) == sorted(CIS)
    alarms = {a["AlarmName"]: a for a in cloud.client("cloudwatch").describe_alarms(
        AlarmNamePrefix="taskapp-cis-")["MetricAlarms"]}
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:{STACK['autobuy_sns_topic']}"
    for metric_filter in filters:
        (transformation,) = metric_filter["metricTransformations"]
        alarm = alarms[metric_filter["filterName"]]
        assert (alarm["MetricName"], alarm["Namespace"]) == (
            transformation["metricName"], transformation["metricNamespace"])
        assert alarm["AlarmActions"] == [topic]
        assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["Statistic"]) == (
            1.0, "GreaterThanOrEqualToThreshold", "Sum")


@pytest.mark.parametrize("name", sorted(CIS))
def test_cis_filter_counts_the_events_cis_names_and_no_other(cloud: Cloud, name: str) -> None:
    (pattern,) = [a["pattern"] for a in ALARMS if a["name"] == name]
    events = [CIS[name]] + ([NOT_COUNTED[name]] if name in NOT_COUNTED else [])
    matches = cloud.client("logs").test_metric_filter(
        filterPattern=pattern, logEventMessages=[json.dumps(e) for e in events])["matches"]
    assert [m["eventNumber"] for m in matches] == [1]


def test_second_run_changes_nothing(cloud: Cloud) -> None:
    assert_ok(run_playbook("playbooks/trail.yml", cloud.url), changed=0)


def test_check_mode_changes_nothing(cloud: Cloud) -> None:
    assert_ok(run_playbook("playbooks/trail.yml", cloud.url, "--check"), changed=0)


def test_check_mode_tells_a_changed_retention(cloud: Cloud) -> None:
    run = run_playbook("playbooks/trail.yml", cloud.url, "--check",
                       extra={"autobuy_trail_log_retention_days": 400})
    assert_ok(run)
    assert run.recap["changed"] == 1
    (group,) = cloud.client("logs").describe_log_groups(
        logGroupNamePrefix=STACK["autobuy_trail_log_group"])["logGroups"]
    assert group["retentionInDays"] == STACK["autobuy_trail_log_retention_days"]


def test_teardown_removes_the_trail_tier_twice(cloud: Cloud) -> None:
    assert_ok(run_playbook("teardown.yml", cloud.url, "--tags", "trail"))
    assert cloud.trail() is None
    assert cloud.client("logs").describe_log_groups(
        logGroupNamePrefix=STACK["autobuy_trail_log_group"])["logGroups"] == []
    assert cloud.client("cloudwatch").describe_alarms(AlarmNamePrefix="taskapp-cis-")["MetricAlarms"] == []
    buckets = {b["Name"] for b in cloud.client("s3").list_buckets()["Buckets"]}
    assert not {STACK["autobuy_trail_bucket"], STACK["autobuy_trail_access_log_bucket"]} & buckets
    roles = {r["RoleName"] for r in cloud.client("iam").list_roles()["Roles"]}
    assert STACK["autobuy_trail_logs_role_name"] not in roles
    key = cloud.client("kms").describe_key(KeyId=STACK["autobuy_trail_kms_alias"])["KeyMetadata"]
    assert key["KeyState"] == "PendingDeletion"
    assert_ok(run_playbook("teardown.yml", cloud.url, "--tags", "trail"), changed=0)
