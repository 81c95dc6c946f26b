"""ELBv2 gap fills: default target group and load balancer attributes."""
from __future__ import annotations

import uuid

import boto3
import pytest


@pytest.fixture
def network() -> dict:
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24",
                          AvailabilityZone=f"eu-central-1{az}")["Subnet"]["SubnetId"]
        for i, az in ((1, "a"), (2, "b"))
    ]
    return {"vpc": vpc, "subnets": subnets}


def _attrs(response: dict) -> dict[str, str]:
    return {a["Key"]: a["Value"] for a in response["Attributes"]}


def test_http_target_group_reports_stickiness_defaults_and_keeps_changes(
    localcloud: str, network: dict
) -> None:
    elbv2 = boto3.client("elbv2")
    arn = elbv2.create_target_group(
        Name=f"tg-{uuid.uuid4().hex[:8]}", Protocol="HTTP", Port=80, VpcId=network["vpc"],
        HealthCheckPath="/health", HealthCheckIntervalSeconds=30, HealthCheckTimeoutSeconds=5,
        HealthyThresholdCount=2, UnhealthyThresholdCount=3, Matcher={"HttpCode": "200"},
    )["TargetGroups"][0]["TargetGroupArn"]

    defaults = _attrs(elbv2.describe_target_group_attributes(TargetGroupArn=arn))
    elbv2.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "stickiness.enabled", "Value": "true"},
        {"Key": "stickiness.type", "Value": "lb_cookie"},
        {"Key": "stickiness.lb_cookie.duration_seconds", "Value": "3600"},
        {"Key": "deregistration_delay.timeout_seconds", "Value": "30"},
    ])
    changed = _attrs(elbv2.describe_target_group_attributes(TargetGroupArn=arn))
    group = elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]

    assert defaults["stickiness.lb_cookie.duration_seconds"] == "86400"
    assert defaults["stickiness.app_cookie.duration_seconds"] == "86400"
    assert defaults["stickiness.enabled"] == "false"
    assert defaults["deregistration_delay.timeout_seconds"] == "300"
    assert changed["stickiness.enabled"] == "true"
    assert changed["stickiness.lb_cookie.duration_seconds"] == "3600"
    assert changed["deregistration_delay.timeout_seconds"] == "30"
    assert (group["HealthCheckPath"], group["HealthCheckIntervalSeconds"],
            group["HealthCheckTimeoutSeconds"], group["HealthyThresholdCount"],
            group["UnhealthyThresholdCount"], group["Matcher"]["HttpCode"]) == (
        "/health", 30, 5, 2, 3, "200")


def test_tcp_target_group_has_no_lb_cookie_attributes(localcloud: str, network: dict) -> None:
    elbv2 = boto3.client("elbv2")
    arn = elbv2.create_target_group(
        Name=f"tg-{uuid.uuid4().hex[:8]}", Protocol="TCP", Port=80, VpcId=network["vpc"],
    )["TargetGroups"][0]["TargetGroupArn"]
    attrs = _attrs(elbv2.describe_target_group_attributes(TargetGroupArn=arn))
    assert attrs["stickiness.type"] == "source_ip"
    assert "stickiness.lb_cookie.duration_seconds" not in attrs
    assert attrs["proxy_protocol_v2.enabled"] == "false"


def test_application_load_balancer_reports_aws_default_attributes(
    localcloud: str, network: dict
) -> None:
    elbv2 = boto3.client("elbv2")
    arn = elbv2.create_load_balancer(
        Name=f"alb-{uuid.uuid4().hex[:8]}", Subnets=network["subnets"],
    )["LoadBalancers"][0]["LoadBalancerArn"]
    before = _attrs(elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn))
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
    ])
    after = _attrs(elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn))

    assert before["routing.http.drop_invalid_header_fields.enabled"] == "false"
    assert before["routing.http2.enabled"] == "true"
    assert before["idle_timeout.timeout_seconds"] == "60"
    assert before["routing.http.desync_mitigation_mode"] == "defensive"
    assert after["routing.http.drop_invalid_header_fields.enabled"] == "true"
