"""Secrets Manager: ``RotateSecret`` runs the rotation function, as AWS does.

moto's ``RotateSecret`` invokes the function through moto's Lambda, which needs AWS's
runtime image from a registry (unreachable), runs the steps inside the request, and
then makes the new version current itself; its "rotation in progress" check is the
wrong way round. AWS, and this patch:

* checks the request (the secret, ``AutomaticallyAfterDays`` 1-1000, a function ARN
  given now or before: "No Lambda rotation function ARN is associated with this
  secret", the function exists) and refuses a rotation while ``AWSPENDING`` is on a
  version other than ``AWSCURRENT`` ("A previous rotation isn't complete");
* records the configuration (``RotationEnabled``, ``RotationLambdaARN``,
  ``RotationRules``, ``NextRotationDate``);
* with ``RotateImmediately`` (the default) stages a new version id as ``AWSPENDING``
  (no value yet), answers with it, and then, outside the request, invokes the function
  for ``createSecret``, ``setSecret``, ``testSecret`` and ``finishSecret``
  (:mod:`localcloud.lambda_runtime`); the function itself moves ``AWSCURRENT``, and
  ``AWSPENDING`` is taken off the version once all four succeeded. A step
  that fails ends the rotation there, ``AWSPENDING`` left in place (AWS retries; here
  the next ``RotateSecret`` with the same token does). ``LastRotatedDate`` is set when
  all four steps succeeded. Without it nothing is invoked now (the schedule rotates).
* the schedule: once ``NextRotationDate`` has passed, the twin rotates the secret
  (checked every few seconds), as Secrets Manager does within its rotation window.

``UpdateSecretVersionStage`` moving ``AWSCURRENT`` also makes that version the one
``GetSecretValue`` returns without a stage (moto kept returning the old one).
Calls without any function ARN keep moto's behaviour (the pending version made current).
"""
from __future__ import annotations

import sys
import threading
import time
import uuid
from typing import Any

from moto.secretsmanager.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    ResourceNotFoundException,
    SecretNotFoundException,
)
from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend

from localcloud import lambda_runtime, patching, twin

DAY = 86400
SCHEDULE_SECONDS = 5.0
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
_lock = threading.Lock()
_running: dict[str, threading.Thread] = {}  # secret ARN -> its rotation in progress


def _log(message: str) -> None:
    print(f"localcloud: secretsmanager: {message}", file=sys.stderr, flush=True)


def _pending_elsewhere(secret: FakeSecret) -> bool:
    return any("AWSPENDING" in version["version_stages"] and "AWSCURRENT" not in version["version_stages"]
               for version in secret.versions.values())


def _function(backend: SecretsManagerBackend, arn: str) -> Any:
    from moto.awslambda.utils import get_backend

    try:
        return get_backend(backend.account_id, backend.region_name).get_function(arn)
    except Exception:  # noqa: BLE001 - moto raises several kinds for "no such function"
        raise ResourceNotFoundException(f"Resource not found for ARN '{arn}'.") from None


def _run_steps(backend: SecretsManagerBackend, secret: FakeSecret, token: str) -> None:
    try:
        function = _function(backend, secret.rotation_lambda_arn)
        for step in STEPS:
            event = {"Step": step, "SecretId": secret.arn, "ClientRequestToken": token}
            lambda_runtime.invoke(function, event, backend.region_name)
        # The function moved AWSCURRENT; AWSPENDING leaves the version, as on AWS.
        labels = secret.versions.get(token, {}).get("version_stages", [])
        if "AWSCURRENT" in labels and "AWSPENDING" in labels:
            labels.remove("AWSPENDING")
        secret.last_rotation_date = int(time.time())
        if secret.auto_rotate_after_days:
            secret.next_rotation_date = secret.last_rotation_date + secret.auto_rotate_after_days * DAY
        _log(f"rotated {secret.name} (version {token})")
    except (lambda_runtime.InvocationError, ResourceNotFoundException) as error:
        _log(f"rotation of {secret.name} failed: {error}")
    finally:
        with _lock:
            _running.pop(secret.arn, None)


def _start(backend: SecretsManagerBackend, secret: FakeSecret, token: str | None) -> str:
    """Stage ``token`` (new if None) as AWSPENDING and run the steps in the background."""
    with _lock:
        if secret.arn in _running:
            raise InvalidRequestException("A previous rotation isn't complete. That rotation will be reattempted.")
        pending = [version_id for version_id, version in secret.versions.items()
                   if "AWSPENDING" in version["version_stages"]
                   and "AWSCURRENT" not in version["version_stages"]]
        if pending and pending != [token]:
            raise InvalidRequestException("A previous rotation isn't complete. That rotation will be reattempted.")
        token = token or str(uuid.uuid4())
        if token not in secret.versions:
            secret.remove_version_stages_from_old_versions(["AWSPENDING"])
            secret.versions[token] = {"createdate": int(time.time()), "version_id": token,
                                      "version_stages": ["AWSPENDING"]}
        thread = threading.Thread(target=_run_steps, args=(backend, secret, token),
                                  name=f"localcloud-rotation-{secret.name}", daemon=True)
        _running[secret.arn] = thread
    thread.start()
    return token


def _schedule() -> None:
    """Rotate every secret whose ``NextRotationDate`` has passed (every region, account)."""
    from moto.secretsmanager.models import secretsmanager_backends

    now = time.time()
    for account, regions in list(secretsmanager_backends.items()):
        for region in list(regions.keys()):
            backend = secretsmanager_backends[account][region]
            for secret in list(backend.secrets.values()):
                if (isinstance(secret, FakeSecret) and secret.rotation_enabled and secret.rotation_lambda_arn
                        and secret.next_rotation_date and secret.next_rotation_date <= now
                        and not secret.is_deleted() and secret.arn not in _running
                        and not _pending_elsewhere(secret)):
                    try:
                        _start(backend, secret, None)
                    except InvalidRequestException:
                        continue


def _scheduler() -> None:
    while True:
        time.sleep(SCHEDULE_SECONDS)
        try:
            _schedule()
        except Exception as error:  # noqa: BLE001 - the schedule keeps going
            _log(f"rotation schedule: {error}")


def apply() -> None:
    original = SecretsManagerBackend.rotate_secret
    if getattr(original, "_localcloud", False):
        return

    def rotate_secret(self: SecretsManagerBackend, secret_id: str, client_request_token: str | None = None,
                      rotation_lambda_arn: str | None = None, rotation_rules: dict[str, Any] | None = None,
                      rotate_immediately: bool = True) -> str:
        if not self._is_valid_identifier(secret_id):
            raise SecretNotFoundException()
        secret = self.secrets[secret_id]
        if not isinstance(secret, FakeSecret) or not (rotation_lambda_arn or secret.rotation_lambda_arn):
            return original(self, secret_id, client_request_token, rotation_lambda_arn,
                            rotation_rules, rotate_immediately)
        if secret.is_deleted():
            raise InvalidRequestException("You tried to perform the operation on a secret that's currently "
                                          "marked deleted.")
        if rotation_lambda_arn and len(rotation_lambda_arn) > 2048:
            raise InvalidParameterException("RotationLambdaARN must <= 2048 characters long.")
        days = (rotation_rules or {}).get("AutomaticallyAfterDays")
        if days is not None and not 1 <= int(days) <= 1000:
            raise InvalidParameterException("RotationRules.AutomaticallyAfterDays must be within 1-1000.")
        if client_request_token:
            self._client_request_token_validator(client_request_token)
        _function(self, rotation_lambda_arn or secret.rotation_lambda_arn)
        if _pending_elsewhere(secret) and (not client_request_token
                                           or client_request_token not in secret.versions):
            raise InvalidRequestException("A previous rotation isn't complete. That rotation will be reattempted.")

        secret.rotation_requested = True
        if rotation_lambda_arn:
            secret.rotation_lambda_arn = rotation_lambda_arn
        if days is not None:
            secret.auto_rotate_after_days = int(days)
        secret.rotation_enabled = secret.auto_rotate_after_days > 0
        if secret.rotation_enabled:
            secret.next_rotation_date = int(time.time()) + secret.auto_rotate_after_days * DAY
        token = None
        if rotate_immediately and secret.versions:
            token = _start(self, secret, client_request_token)
        return secret.to_short_dict(version_id=token, include_version_id=token is not None)

    def update_secret_version_stage(original_stage: Any) -> Any:
        def update(self: SecretsManagerBackend, secret_id: str, version_stage: str,
                   remove_from_version_id: str, move_to_version_id: str) -> tuple[str, str]:
            answer = original_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
            if version_stage == "AWSCURRENT" and move_to_version_id:
                self.secrets[secret_id].set_default_version_id(move_to_version_id)
            return answer
        return update

    rotate_secret._localcloud = True  # type: ignore[attr-defined]
    SecretsManagerBackend.rotate_secret = rotate_secret  # type: ignore[method-assign]
    patching.wrap(SecretsManagerBackend, "update_secret_version_stage", update_secret_version_stage)
    twin.on_start(lambda _: threading.Thread(target=_scheduler, name="localcloud-rotation-schedule",
                                             daemon=True).start())
