"""CloudTrail gap fill: a trail is deleted by name or ARN; a missing one is an error."""
from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError


def _trail(name: str) -> str:
    s3 = boto3.client("s3")
    bucket = f"trail-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={
        "LocationConstraint": s3.meta.region_name})
    return boto3.client("cloudtrail").create_trail(
        Name=name, S3BucketName=bucket, TagsList=[{"Key": "Project", "Value": "test"}])["TrailARN"]


@pytest.mark.parametrize("by", ["name", "arn"])
def test_a_trail_is_deleted_by_name_or_arn(localcloud: str, by: str) -> None:
    cloudtrail = boto3.client("cloudtrail")
    name = f"trail-{uuid.uuid4().hex[:8]}"
    arn = _trail(name)
    cloudtrail.delete_trail(Name=arn if by == "arn" else name)
    assert name not in {t["Name"] for t in cloudtrail.describe_trails()["trailList"]}
    with pytest.raises(ClientError) as caught:
        cloudtrail.get_trail(Name=name)
    assert caught.value.response["Error"]["Code"] == "TrailNotFoundException"


def test_deleting_a_missing_trail_is_an_error(localcloud: str) -> None:
    cloudtrail = boto3.client("cloudtrail")
    with pytest.raises(ClientError) as caught:
        cloudtrail.delete_trail(Name=f"missing-{uuid.uuid4().hex[:8]}")
    assert caught.value.response["Error"]["Code"] == "TrailNotFoundException"


def test_a_new_trail_logs_every_management_event_until_told_otherwise(localcloud: str) -> None:
    cloudtrail = boto3.client("cloudtrail")
    name = f"trail-{uuid.uuid4().hex[:8]}"
    arn = _trail(name)
    assert cloudtrail.get_event_selectors(TrailName=arn)["EventSelectors"] == [{
        "ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
        "ExcludeManagementEventSources": []}]
    cloudtrail.put_event_selectors(TrailName=arn, EventSelectors=[
        {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}])
    (selector,) = cloudtrail.get_event_selectors(TrailName=arn)["EventSelectors"]
    assert selector["ReadWriteType"] == "WriteOnly"
