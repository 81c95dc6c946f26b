"""STS gap fill: the default caller has an IAM user's ARN, as AWS gives IAM users."""
from __future__ import annotations

import json
import uuid

import boto3


def test_the_default_caller_is_an_iam_user(localcloud: str) -> None:
    identity = boto3.client("sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{identity['Account']}:user/moto"


def test_an_assumed_role_keeps_its_session_arn(localcloud: str) -> None:
    iam = boto3.client("iam")
    name = f"role-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": "*"}}]}))["Role"]
    try:
        credentials = boto3.client("sts").assume_role(
            RoleArn=role["Arn"], RoleSessionName="audit")["Credentials"]
        session = boto3.client("sts", aws_access_key_id=credentials["AccessKeyId"],
                               aws_secret_access_key=credentials["SecretAccessKey"],
                               aws_session_token=credentials["SessionToken"])
        arn = session.get_caller_identity()["Arn"]
        assert arn == f"arn:aws:sts::123456789012:assumed-role/{name}/audit"
    finally:
        iam.delete_role(RoleName=name)
