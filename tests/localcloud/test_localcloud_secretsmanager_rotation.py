"""localcloud/ext/fidelity/secretsmanager_rotation.py in-process (moto's backend, no server):
what RotateSecret records and refuses, and the schedule picking the secrets that are due.
The steps themselves run in tests/playbooks/test_mysql_rotation_function.py (a real
function against a real MariaDB) and tests/localcloud/test_twin_db_rotation.py."""
from __future__ import annotations

import io
import json
import time
import zipfile

import boto3
import pytest
from moto import mock_aws
from moto.secretsmanager.models import secretsmanager_backends

from localcloud.ext.fidelity import secretsmanager_rotation as rotation

REGION = "eu-central-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    rotation.apply()
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    started: list[tuple[str, str | None]] = []
    monkeypatch.setattr(rotation, "_start", lambda backend, secret, token: started.append((secret.name, token)) or token or "new")
    with mock_aws():
        iam = boto3.client("iam")
        role = iam.create_role(RoleName="rotation", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("lambda_function.py", "def lambda_handler(event, context):\n    return None\n")
        function = boto3.client("lambda").create_function(
            FunctionName="rotation", Runtime="python3.12", Role=role["Arn"],
            Handler="lambda_function.lambda_handler", Code={"ZipFile": code.getvalue()})
        yield boto3.client("secretsmanager"), function["FunctionArn"], started


def _secret(client, name: str) -> str:
    return client.create_secret(Name=name, SecretString=json.dumps({"password": "x"}))["ARN"]


def test_a_schedule_without_rotating_now_records_the_configuration_only(aws):
    client, arn, started = aws
    _secret(client, "db")
    client.rotate_secret(SecretId="db", RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30},
                         RotateImmediately=False)
    described = client.describe_secret(SecretId="db")
    assert (described["RotationEnabled"], described["RotationLambdaARN"], described["RotationRules"]) == (
        True, arn, {"AutomaticallyAfterDays": 30})
    assert 29.9 * 86400 < described["NextRotationDate"].timestamp() - time.time() <= 30 * 86400
    assert started == []


def test_rotate_secret_starts_the_steps_now_by_default(aws):
    client, arn, started = aws
    _secret(client, "db")
    token = client.rotate_secret(SecretId="db", RotationLambdaARN=arn,
                                 RotationRules={"AutomaticallyAfterDays": 1})["VersionId"]
    assert started == [("db", token)]  # boto3 sends a ClientRequestToken of its own


@pytest.mark.parametrize(("request_", "error"), [
    ({"RotationLambdaARN": "arn:aws:lambda:eu-central-1:123456789012:function:none"}, "Resource not found"),
    ({"RotationRules": {"AutomaticallyAfterDays": 1001}}, "must be within 1-1000"),
])
def test_rotate_secret_refuses_what_aws_refuses(aws, request_, error):
    client, arn, _ = aws
    _secret(client, "db")
    with pytest.raises(client.exceptions.ClientError, match=error):
        client.rotate_secret(SecretId="db", **{"RotationLambdaARN": arn, **request_})


def test_a_rotation_left_pending_refuses_the_next(aws):
    client, arn, _ = aws
    _secret(client, "db")
    client.put_secret_value(SecretId="db", SecretString="{}", VersionStages=["AWSPENDING"])
    with pytest.raises(client.exceptions.ClientError, match="previous rotation isn't complete"):
        client.rotate_secret(SecretId="db", RotationLambdaARN=arn)


def test_the_schedule_rotates_only_the_secrets_that_are_due(aws):
    client, arn, started = aws
    for name in ("due", "later", "off"):
        _secret(client, name)
    for name in ("due", "later"):
        client.rotate_secret(SecretId=name, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30},
                             RotateImmediately=False)
    backend = secretsmanager_backends["123456789012"][REGION]
    backend.secrets["due"].next_rotation_date = int(time.time()) - 1
    rotation._schedule()
    assert started == [("due", None)]
