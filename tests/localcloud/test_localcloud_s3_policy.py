"""S3 on the local cloud: a bucket policy statement with a condition does not turn into a
deny of the owner's own requests (moto evaluates it without a request context)."""
from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError


def _policy(bucket: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "OnlyTheDistributionReads", "Effect": "Allow",
         "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"}}},
        {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}


def test_conditioned_statements_do_not_deny_the_owner(localcloud: str) -> None:
    s3 = boto3.client("s3")
    bucket = f"site-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(_policy(bucket)))
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<!doctype html>")
    assert s3.get_object(Bucket=bucket, Key="index.html")["Body"].read() == b"<!doctype html>"


def test_unconditioned_deny_still_denies(localcloud: str) -> None:
    s3 = boto3.client("s3")
    bucket = f"locked-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
    policy = _policy(bucket)
    policy["Statement"].append({"Sid": "NoWrites", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                                "Resource": f"arn:aws:s3:::{bucket}/*"})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    with pytest.raises(ClientError, match="403|AccessDenied|Forbidden"):
        s3.put_object(Bucket=bucket, Key="index.html", Body=b"x")
