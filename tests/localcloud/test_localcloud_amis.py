"""EC2 gap fill: Debian 12 and 13 AMIs resolvable by owner + name filter."""
from __future__ import annotations

import re

import boto3
import pytest

DEBIAN = "136693071363"


def _images(pattern: str, arch: str = "x86_64", region: str = "eu-central-1") -> list[dict]:
    ec2 = boto3.client("ec2", region_name=region)
    return ec2.describe_images(Owners=[DEBIAN], Filters=[
        {"Name": "name", "Values": [pattern]},
        {"Name": "architecture", "Values": [arch]},
        {"Name": "state", "Values": ["available"]},
    ])["Images"]


@pytest.mark.parametrize("major", ["12", "13"])
def test_debian_images_resolve_by_owner_and_name(localcloud: str, major: str) -> None:
    images = _images(f"debian-{major}-amd64-*")
    latest = max(images, key=lambda i: i["CreationDate"])

    assert len(images) >= 2
    assert all(re.fullmatch(rf"debian-{major}-amd64-\d{{8}}-\d{{4}}", i["Name"]) for i in images)
    assert {i["OwnerId"] for i in images} == {DEBIAN}
    assert {i["Architecture"] for i in images} == {"x86_64"}
    assert latest["Name"].endswith("20251006-2257")
    assert latest["RootDeviceType"] == "ebs"


def test_arm64_images_are_separate_and_other_regions_have_them(localcloud: str) -> None:
    arm = _images("debian-12-*", arch="arm64")
    assert arm and all("-arm64-" in i["Name"] for i in arm)
    assert _images("debian-12-amd64-*", region="us-east-1")


def test_moto_default_images_are_still_there(localcloud: str) -> None:
    ec2 = boto3.client("ec2")
    amazon = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-*"]}])["Images"]
    assert amazon


def test_debian_image_launches_an_instance(localcloud: str) -> None:
    ec2 = boto3.client("ec2")
    image = _images("debian-12-amd64-*")[0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                 InstanceType="t2.micro")["Instances"][0]
    assert instance["ImageId"] == image
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
