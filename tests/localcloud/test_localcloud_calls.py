"""The API call counter: GET /localcloud/calls, POST /localcloud/calls/reset."""
from __future__ import annotations

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest


def test_counts_each_protocol_by_service_and_operation(calls) -> None:
    calls.reset()
    boto3.client("ec2").describe_vpcs()                       # ec2 protocol
    boto3.client("elbv2").describe_load_balancers()           # query, shares signing name
    boto3.client("elb").describe_load_balancers()             # ... with classic ELB
    boto3.client("rds").describe_db_instances()               # query, shares it with docdb
    boto3.client("autoscaling").describe_auto_scaling_groups()
    boto3.client("dynamodb").list_tables()                    # json
    boto3.client("secretsmanager").list_secrets()
    boto3.client("secretsmanager").list_secrets()
    route53 = boto3.client("route53")                         # rest-xml
    zone = route53.create_hosted_zone(Name="calls.example", CallerReference="calls")
    route53.list_resource_record_sets(HostedZoneId=zone["HostedZone"]["Id"])
    route53.delete_hosted_zone(Id=zone["HostedZone"]["Id"])
    boto3.client("lambda").list_functions()                   # rest-json
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="calls-bucket",
                     CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    s3.put_object(Bucket="calls-bucket", Key="a/b.txt", Body=b"x")
    s3.copy_object(Bucket="calls-bucket", Key="c.txt",
                   CopySource={"Bucket": "calls-bucket", "Key": "a/b.txt"})

    counts = calls.read()

    assert counts["by_service"] == {
        "ec2": {"DescribeVpcs": 1},
        "elbv2": {"DescribeLoadBalancers": 1},
        "elb": {"DescribeLoadBalancers": 1},
        "rds": {"DescribeDBInstances": 1},
        "autoscaling": {"DescribeAutoScalingGroups": 1},
        "dynamodb": {"ListTables": 1},
        "secretsmanager": {"ListSecrets": 2},
        "route53": {"CreateHostedZone": 1, "ListResourceRecordSets": 1,
                    "DeleteHostedZone": 1},
        "lambda": {"ListFunctions": 1},
        "s3": {"CreateBucket": 1, "PutObject": 1, "CopyObject": 1},
    }
    assert counts["total"] == 15


def test_reset_zeroes_and_moto_api_is_not_counted(calls, localcloud: str) -> None:
    boto3.client("sts").get_caller_identity()
    calls.reset()
    # /moto-api/config, not data.json: that dumps every resource the session's tests made
    # and took over 10 s late in a loaded suite
    urllib.request.urlopen(localcloud + "/moto-api/config", timeout=10).close()
    assert calls.read() == {"total": 0, "by_service": {}}


def test_concurrent_calls_are_all_counted(calls) -> None:
    client = boto3.client("sqs")
    calls.reset()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: client.list_queues(), range(40)))
    assert calls.read() == {"total": 40, "by_service": {"sqs": {"ListQueues": 40}}}


def test_wrong_method_and_unknown_route_are_refused(localcloud: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(localcloud + "/localcloud/calls/reset", timeout=10)
    assert err.value.code == 405
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(localcloud + "/localcloud/nothing", timeout=10)
    assert err.value.code == 404
