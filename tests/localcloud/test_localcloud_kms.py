"""KMS gap fill: key state actions take the key ARN as well as its id (as on AWS)."""
from __future__ import annotations

import boto3


def test_a_key_scheduled_and_cancelled_by_its_arn(localcloud: str) -> None:
    kms = boto3.client("kms")
    arn = kms.create_key(Description="scheduled by ARN")["KeyMetadata"]["Arn"]

    kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "PendingDeletion"

    kms.cancel_key_deletion(KeyId=arn)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Disabled"
    kms.enable_key(KeyId=arn)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Enabled"
    kms.disable_key(KeyId=arn)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Disabled"


def test_the_default_ebs_key_is_aws_managed_and_rotated(localcloud: str) -> None:
    ec2 = boto3.client("ec2")
    kms = boto3.client("kms")
    volume = ec2.create_volume(AvailabilityZone="eu-central-1a", Size=1, Encrypted=True)
    try:
        metadata = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
        assert volume["KmsKeyId"] == metadata["Arn"]
        assert metadata["KeyManager"] == "AWS"
        assert kms.get_key_rotation_status(KeyId=metadata["KeyId"])["KeyRotationEnabled"] is True
    finally:
        ec2.delete_volume(VolumeId=volume["VolumeId"])


def test_a_key_of_ours_stays_customer_managed(localcloud: str) -> None:
    kms = boto3.client("kms")
    metadata = kms.create_key(Description="ours")["KeyMetadata"]
    kms.create_alias(AliasName="alias/ours-" + metadata["KeyId"][:8], TargetKeyId=metadata["KeyId"])
    assert kms.describe_key(KeyId=metadata["KeyId"])["KeyMetadata"]["KeyManager"] == "CUSTOMER"
    assert kms.get_key_rotation_status(KeyId=metadata["KeyId"])["KeyRotationEnabled"] is False
