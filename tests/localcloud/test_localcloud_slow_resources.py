"""Slow resources: RDS creating, ALB provisioning, ACM pending until its CNAME exists.

Runs against ``quick_cloud`` (every delay 1.5 s) so the waits are real but short.
"""
from __future__ import annotations

import time
import uuid

import pytest

DELAY = 1.5
FAST_WAITER = {"Delay": 0.25, "MaxAttempts": 40}


def test_rds_instance_is_creating_then_available(quick_cloud) -> None:
    rds = quick_cloud("rds")
    name = f"db-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    created = rds.create_db_instance(
        DBInstanceIdentifier=name, DBInstanceClass="db.t4g.micro", Engine="mysql",
        MasterUsername="admin", MasterUserPassword="not-a-real-secret-1", AllocatedStorage=10,
    )["DBInstance"]
    first = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]

    rds.get_waiter("db_instance_available").wait(
        DBInstanceIdentifier=name, WaiterConfig=FAST_WAITER)
    waited = time.monotonic() - started

    assert created["DBInstanceStatus"] == "creating"
    assert first["DBInstanceStatus"] == "creating"
    assert waited >= DELAY
    final = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    assert final["DBInstanceStatus"] == "available"
    rds.stop_db_instance(DBInstanceIdentifier=name)
    stopped = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    assert stopped["DBInstanceStatus"] == "stopped"  # later transitions still work


def test_load_balancer_is_provisioning_then_active(quick_cloud) -> None:
    ec2, elbv2 = quick_cloud("ec2"), quick_cloud("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.30.{i}.0/24",
                                 AvailabilityZone=f"eu-central-1{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    started = time.monotonic()
    arn = elbv2.create_load_balancer(
        Name=f"alb-{uuid.uuid4().hex[:8]}", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    first = elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]

    elbv2.get_waiter("load_balancer_available").wait(
        LoadBalancerArns=[arn], WaiterConfig=FAST_WAITER)

    assert first["State"]["Code"] == "provisioning"
    assert time.monotonic() - started >= DELAY
    final = elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
    assert final["State"]["Code"] == "active"


def _request(acm, domain: str) -> tuple[str, list[dict]]:
    arn = acm.request_certificate(
        DomainName=f"*.{domain}", SubjectAlternativeNames=[domain], ValidationMethod="DNS",
    )["CertificateArn"]
    options = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"]
    records = {(o["ResourceRecord"]["Name"], o["ResourceRecord"]["Value"]) for o in options}
    return arn, [{"Name": n, "Value": v} for n, v in records]


def _publish(route53, domain: str, records: list[dict], value: str | None = None) -> None:
    zone = route53.create_hosted_zone(Name=domain, CallerReference=uuid.uuid4().hex)
    route53.change_resource_record_sets(
        HostedZoneId=zone["HostedZone"]["Id"],
        ChangeBatch={"Changes": [
            {"Action": "UPSERT", "ResourceRecordSet": {
                "Name": r["Name"], "Type": "CNAME", "TTL": 300,
                "ResourceRecords": [{"Value": value or r["Value"]}]}}
            for r in records
        ]},
    )


def _status(acm, arn: str) -> str:
    return acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]


def _until_issued(acm, arn: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while _status(acm, arn) != "ISSUED":
        assert time.monotonic() < deadline, f"{arn} still {_status(acm, arn)}"
        time.sleep(0.1)


def test_certificate_is_issued_only_after_its_cname_exists_and_time_passed(quick_cloud) -> None:
    acm, route53 = quick_cloud("acm"), quick_cloud("route53")
    domain = f"c{uuid.uuid4().hex[:8]}.example"
    requested = time.monotonic()
    arn, records = _request(acm, domain)
    _publish(route53, domain, records)
    right_away = _status(acm, arn)

    _until_issued(acm, arn)

    assert right_away == "PENDING_VALIDATION"
    assert time.monotonic() - requested >= DELAY
    listed = acm.list_certificates(CertificateStatuses=["ISSUED"])["CertificateSummaryList"]
    assert arn in {c["CertificateArn"] for c in listed}


@pytest.mark.parametrize("publish", ["nothing", "wrong value"])
def test_certificate_stays_pending_without_a_matching_cname(quick_cloud, publish: str) -> None:
    acm, route53 = quick_cloud("acm"), quick_cloud("route53")
    domain = f"p{uuid.uuid4().hex[:8]}.example"
    arn, records = _request(acm, domain)
    if publish == "wrong value":
        _publish(route53, domain, records, value="elsewhere.example.")
    # a control certificate requested after it, with its CNAME: once the control is issued,
    # the validation time has passed for this one too (a signal instead of a sleep)
    control_domain = f"k{uuid.uuid4().hex[:8]}.example"
    control, control_records = _request(acm, control_domain)
    _publish(route53, control_domain, control_records)
    _until_issued(acm, control)

    assert _status(acm, arn) == "PENDING_VALIDATION"
    options = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"]
    assert {o["ValidationStatus"] for o in options} == {"PENDING_VALIDATION"}
