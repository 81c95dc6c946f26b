"""A fake of Secrets Manager's versions and labels, as a rotation function's steps see
them (tests of playbooks/files/*_rotation/)."""
from __future__ import annotations

import json
from typing import Any

ARN = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:taskapp/database-AbCdEf"


class NotFound(Exception):
    pass


class FakeSecrets:
    """Secrets Manager's versions and labels, as the rotation steps see them."""

    class exceptions:  # noqa: N801 - boto3's attribute name
        ResourceNotFoundException = NotFound

    def __init__(self, versions: dict[str, tuple[list[str], dict | None]], enabled: bool = True,
                 arn: str = ARN, random_password: str = "N3w-pw") -> None:
        self.versions = versions
        self.enabled = enabled
        self.arn, self.random_password = arn, random_password
        self.calls: list[tuple[str, dict]] = []

    def describe_secret(self, SecretId: str) -> dict:
        return {"ARN": self.arn, "RotationEnabled": self.enabled,
                "VersionIdsToStages": {v: list(labels) for v, (labels, _) in self.versions.items()}}

    def get_secret_value(self, SecretId: str, VersionStage: str, VersionId: str | None = None) -> dict:
        for version, (labels, value) in self.versions.items():
            if VersionStage in labels and (VersionId is None or VersionId == version) and value is not None:
                return {"SecretString": json.dumps(value), "VersionId": version}
        raise NotFound(VersionStage)

    def get_random_password(self, **kwargs: Any) -> dict:
        self.calls.append(("get_random_password", kwargs))
        return {"RandomPassword": self.random_password}

    def put_secret_value(self, **kwargs: Any) -> None:
        self.calls.append(("put_secret_value", kwargs))
        self.versions[kwargs["ClientRequestToken"]] = (kwargs["VersionStages"], json.loads(kwargs["SecretString"]))

    def update_secret_version_stage(self, **kwargs: Any) -> None:
        self.calls.append(("update_secret_version_stage", kwargs))
        labels, value = self.versions[kwargs["RemoveFromVersionId"]]
        self.versions[kwargs["RemoveFromVersionId"]] = ([*(x for x in labels if x != "AWSCURRENT"), "AWSPREVIOUS"], value)
        labels, value = self.versions[kwargs["MoveToVersionId"]]
        self.versions[kwargs["MoveToVersionId"]] = ([*labels, "AWSCURRENT"], value)
