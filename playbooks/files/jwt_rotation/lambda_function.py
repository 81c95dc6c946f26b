"""Secrets Manager rotation function of ``taskapp/app``: the JWT signing key.

Secrets Manager invokes ``lambda_handler`` once per step with ``{"Step", "SecretId",
"ClientRequestToken"}``; the token is the id of the new version, already staged as
``AWSPENDING`` (with no value yet) before the first step. A rotation must never sign
anyone out, and the four steps run back to back, so each rotation applies the keyring
steps that are due (``jwt_keyring.py``, the steps of playbooks/rotate_jwt_key.yml), in
the order retire -> promote -> add: a key is added by one rotation and promoted by the
next, once every app has read it; the key it replaced is retired by the one after, once
every token it signed has expired. Consecutive rotations walk add, promote, retire + add,
promote, ...

1. ``createSecret``: the ``AWSPENDING`` version gets the current value with the due steps
   applied (a new key: 64 characters from ``GetRandomPassword``, id ``k<UTC timestamp>``).
   No step due (a rotation too soon after the last): it fails with the time the next one
   is due, and Secrets Manager records a failed rotation. Already there (a retried step):
   left as it is.
2. ``setSecret``: nothing to set: the apps read the keyring from the secret itself.
3. ``testSecret``: the pending keyring is one the app can use, keeps the key that signs
   now, and every other field (Stripe, Google...) is the current one's.
4. ``finishSecret``: ``AWSCURRENT`` moves to the new version (Secrets Manager moves
   ``AWSPREVIOUS`` to the version that had it).

No key is ever logged or put in a message (key ids and times only). Environment:
``SETTLE_SECONDS`` (360: every app has re-read the secret), ``TOKEN_SECONDS`` (900: the
app's access-token lifetime), ``KEY_LENGTH`` (64). The Secrets Manager client takes its
endpoint from boto3's configuration (``AWS_ENDPOINT_URL`` when set).
"""
from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import jwt_keyring
from rotation_protocol import (STEPS, RotationError, finish_secret, pending_staged, run_step,
                               secret_json)

logger = logging.getLogger()
logger.setLevel(logging.INFO)

SETTLE_SECONDS = 360
TOKEN_SECONDS = 900
KEY_LENGTH = 64
__all__ = ["STEPS", "RotationError", "lambda_handler"]


def lambda_handler(event: dict[str, Any], context: Any, client: Any = None, now: float | None = None) -> None:
    """Run the rotation step ``event["Step"]`` for the version ``event["ClientRequestToken"]``
    (the event and labels checked by rotation_protocol.py); ``now``: the time (tests)."""
    def create(client: Any, arn: str, token: str) -> None:
        create_secret(client, arn, token, int(time.time() if now is None else now))

    run_step(event, client, {"createSecret": create, "setSecret": set_secret,
                             "testSecret": test_secret, "finishSecret": finish_secret})


def set_secret(client: Any, arn: str, token: str) -> None:
    """Nothing to set: the apps read the keyring from the secret itself."""
    logger.info("setSecret: nothing to set for %s: the apps read the keyring from the secret", arn)


def setting(name: str, default: int, unit: str) -> int:
    """The function's environment variable ``name``: a whole number of ``unit``, not negative."""
    value = os.environ.get(name, str(default))
    try:
        number = int(value)
    except ValueError:
        raise RotationError(f"{name} must be a whole number of {unit}, not {value!r}") from None
    if number < 0:
        raise RotationError(f"{name} must not be negative")
    return number


def due_steps(value: dict[str, Any], now: int, new_key: Any) -> tuple[dict[str, Any], list[str]]:
    """``value`` with every keyring step due at ``now`` applied (retire, promote, add), and
    what each did. ``new_key()`` gives a new key when one is added. Raises
    :class:`RotationError` when none is due."""
    settle = setting("SETTLE_SECONDS", SETTLE_SECONDS, "seconds")
    tokens = setting("TOKEN_SECONDS", TOKEN_SECONDS, "seconds")
    done: list[str] = []
    try:
        for name in ("retire", "promote", "add"):
            next_step, due = jwt_keyring.due_step(value, settle, tokens)
            if next_step != name or now < due:
                continue
            kid = time.strftime("k%Y%m%d%H%M%S", time.gmtime(now))
            value, changed, msg = jwt_keyring.step(value, name, now, new_key() if name == "add" else "",
                                                   kid, settle, tokens)
            if changed:
                done.append(f"{name}: {msg}")
        if not done:
            next_step, due = jwt_keyring.due_step(value, settle, tokens)
            raise RotationError(f"no JWT keyring step is due: {next_step} is due at {jwt_keyring.when(due)}; "
                                "rotate again from then")
    except jwt_keyring.KeyringError as error:
        raise RotationError(f"the JWT keyring of the app secret: {error}") from None
    return value, done


def create_secret(client: Any, arn: str, token: str, now: int) -> None:
    """Stage the current value with the due keyring steps applied as ``AWSPENDING``."""
    current = secret_json(client, arn, "AWSCURRENT")
    if pending_staged(client, arn, token):
        return

    def new_key() -> str:
        return client.get_random_password(PasswordLength=setting("KEY_LENGTH", KEY_LENGTH, "characters"),
                                          ExcludePunctuation=True, IncludeSpace=False)["RandomPassword"]

    value, done = due_steps(current, now, new_key)
    client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(value),
                            VersionStages=["AWSPENDING"])
    for line in done:
        logger.info("createSecret: %s: %s", arn, line)
    logger.info("createSecret: staged version %s of %s", token, arn)


def test_secret(client: Any, arn: str, token: str) -> None:
    """The pending keyring is valid, keeps the signing key of the current one, and the
    other fields are the current ones."""
    pending = secret_json(client, arn, "AWSPENDING", token)
    current = secret_json(client, arn, "AWSCURRENT")
    try:
        kid = jwt_keyring.check(pending)
        keys, signing = jwt_keyring.keyring(current)
    except jwt_keyring.KeyringError as error:
        raise RotationError(f"testSecret: the JWT keyring of {arn}: {error}") from None
    if jwt_keyring.keyring(pending)[0].get(signing) != keys[signing]:
        raise RotationError(f"testSecret: the pending keyring of {arn} drops key {signing}, which signs now")
    others = sorted(field for field in set(current) | set(pending)
                    if field not in jwt_keyring.FIELDS and current.get(field) != pending.get(field))
    if others:
        # The secret was written while this rotation ran (the data tier): promoting the
        # pending value would undo that write. Rotate again: it starts from the new value.
        raise RotationError(f"testSecret: {', '.join(others)} of {arn} changed during the rotation; rotate again")
    logger.info("testSecret: the pending keyring of %s is valid; key %s signs", arn, kid)
