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
