"""Secrets Manager's rotation protocol, shared by the stack's rotation functions
(mysql_rotation/, jwt_rotation/; each package.py copies this file into its zip).

Secrets Manager invokes a rotation function once per step with ``{"Step", "SecretId",
"ClientRequestToken"}``; the token is the id of the new version, which Secrets Manager
has already staged as ``AWSPENDING`` (with no value yet) before the first step. What every
function does alike, as AWS's rotation templates do: check the event and the version's
labels and run the function's step (:func:`run_step`, :func:`version_to_rotate`), read a version's JSON value (:func:`secret_json`),
leave a version staged before alone (:func:`pending_staged`) and move ``AWSCURRENT`` at
``finishSecret`` (:func:`finish_secret`).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


class RotationError(ValueError):
    """A rotation step cannot go on (Secrets Manager records the failure and retries)."""


#: A function's step: (Secrets Manager client, secret ARN, version token) -> None.
Step = Callable[[Any, str, str], None]


def run_step(event: dict[str, Any], client: Any, steps: Mapping[str, Step]) -> None:
    """Run ``steps[event["Step"]]`` for the event's version (``client``: boto3's when None),
    unless the event is outside a rotation (:class:`RotationError`) or its version is
    already ``AWSCURRENT`` (nothing to do)."""
    client = client or boto3.client("secretsmanager")
    rotating = version_to_rotate(client, event)
    if rotating is not None:
        arn, token, step = rotating
        steps[step](client, arn, token)


def version_to_rotate(client: Any, event: dict[str, Any]) -> tuple[str, str, str] | None:
    """``(arn, token, step)`` of a rotation event whose version is ``AWSPENDING``; None when
    that version is already ``AWSCURRENT`` (a step retried after ``finishSecret``: nothing
    to do). :class:`RotationError` for an event outside a rotation."""
    try:
        arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    except KeyError as missing:
        raise RotationError(f"rotation event without {missing.args[0]}") from None
    if step not in STEPS:
        raise RotationError(f"invalid step {step!r}: one of {', '.join(STEPS)}")
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled", False):
        raise RotationError(f"secret {arn} is not enabled for rotation")
    versions = metadata.get("VersionIdsToStages", {})
    if token not in versions:
        raise RotationError(f"secret version {token} has no stage for rotation of secret {arn}")
    if "AWSCURRENT" in versions[token]:
        logger.info("%s: version %s of %s is already AWSCURRENT", step, token, arn)
        return None
    if "AWSPENDING" not in versions[token]:
        raise RotationError(f"secret version {token} not set as AWSPENDING for rotation of secret {arn}")
    return arn, token, step


def pending_staged(client: Any, arn: str, token: str) -> bool:
    """Whether version ``token`` already has its ``AWSPENDING`` value (``createSecret``
    retried: it is left as it is)."""
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
    except client.exceptions.ResourceNotFoundException:
        return False
    logger.info("createSecret: the pending version of %s exists", arn)
    return True


def finish_secret(client: Any, arn: str, token: str) -> None:
    """Move ``AWSCURRENT`` to the new version (Secrets Manager moves ``AWSPREVIOUS``)."""
    stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    current = next((version for version, labels in stages.items() if "AWSCURRENT" in labels), None)
    if current == token:
        logger.info("finishSecret: version %s of %s is already AWSCURRENT", token, arn)
        return
    client.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT",
                                       MoveToVersionId=token, RemoveFromVersionId=current)
    logger.info("finishSecret: version %s of %s is now AWSCURRENT", token, arn)


def secret_json(client: Any, arn: str, stage: str, token: str | None = None) -> dict[str, Any]:
    """The secret's JSON object at ``stage`` (of version ``token``)."""
    request = {"SecretId": arn, "VersionStage": stage, **({"VersionId": token} if token else {})}
    value = client.get_secret_value(**request)["SecretString"]
    try:
        secret = json.loads(value)
    except ValueError:
        raise RotationError(f"the {stage} value of {arn} is not JSON") from None
    if not isinstance(secret, dict):
        raise RotationError(f"the {stage} value of {arn} is not a JSON object")
    return secret
