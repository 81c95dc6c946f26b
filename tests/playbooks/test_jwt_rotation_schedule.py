"""The app secret's rotation schedule on a local cloud: scheduled rotations of the JWT
signing key sign nobody out.

The network, security and data tiers converge (the database password's own schedule off:
it needs the twin's MariaDB, tests/localcloud/test_twin_db_rotation.py); setting the
schedule on taskapp/app rotates once at once, and the test triggers the next rotations with
``RotateSecret``, as the schedule would. The local cloud runs the packaged function
(playbooks/files/jwt_rotation/) as Lambda would. The oracles are the app's own token code
reading the secret from the local cloud as it does in production (autobuy.secret_values,
autobuy.services.tokens) and Secrets Manager's documented labels: a token signed before
each rotation verifies after it; the signing key id changes at the promote rotation; a
rotation before the next step is due fails with that time and leaves AWSCURRENT as it was;
a token of a retired key is refused. Short settle/token times (the function's
environment) keep it quick.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from provision_helpers import Run, client, private_cloud, run_playbook

from autobuy.errors import AuthFailed
from autobuy.secret_values import KeyringSource, SecretValue, secrets_manager_fetch
from autobuy.services.tokens import AccessTokens, keyring_from_secret

pytestmark = [pytest.mark.slow, pytest.mark.playbook, pytest.mark.localcloud]

SECRET = "taskapp/app"
SETTLE, TOKENS = 12, 8
FAST = {"autobuy_db_rotation_days": 0, "autobuy_jwt_settle_seconds": SETTLE,
        "autobuy_jwt_access_token_seconds": TOKENS}
TIERS = ("--tags", "network,security,data")
FUNCTION = "arn:aws:lambda:eu-central-1:123456789012:function:taskapp-jwt-rotation"


class Cloud:
    def __init__(self, url: str, log: Path) -> None:
        self.url, self.log = url, log
        self.secrets = client("secretsmanager", url)

    def converge(self) -> Run:
        return run_playbook("site.yml", self.url, *TIERS, extra=FAST)

    def value(self, **version: str) -> dict[str, Any]:
        return json.loads(self.secrets.get_secret_value(SecretId=SECRET, **version)["SecretString"])

    def labels(self) -> dict[str, list[str]]:
        return {v: sorted(s) for v, s in
                self.secrets.describe_secret(SecretId=SECRET)["VersionIdsToStages"].items() if s}

    def current_version(self) -> str:
        (version,) = [v for v, s in self.labels().items() if "AWSCURRENT" in s]
        return version

    def rotate(self, **token: str) -> str:
        return self.secrets.rotate_secret(SecretId=SECRET, **token)["VersionId"]

    def failures(self) -> list[str]:
        """The local cloud's log lines of the secret's failed rotations."""
        return [line for line in self.log.read_text().splitlines() if "rotation of taskapp/app failed" in line]

    def wait_rotated(self, token: str | None = None, failed: int = 0, timeout: float = 120) -> None:
        """Until the rotation of ``token`` (any, when None) has finished: it is AWSCURRENT
        and no version is AWSPENDING; no more than ``failed`` rotations failed so far."""
        deadline = time.monotonic() + timeout
        while True:
            labels = self.labels()
            pending = [v for v, s in labels.items() if "AWSPENDING" in s]
            if not pending and (token is None or labels.get(token) == ["AWSCURRENT"]):
                return
            assert len(self.failures()) <= failed, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"not rotated in {timeout} s: {labels}"
            time.sleep(0.3)

    def wait_failed(self, count: int, timeout: float = 60) -> str:
        """The local cloud's log line of the ``count``-th failed rotation of the secret."""
        deadline = time.monotonic() + timeout
        while True:
            failed = self.failures()
            if len(failed) >= count:
                return failed[count - 1]
            assert time.monotonic() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.3)


def _until(moment: float) -> None:
    """Wait for a time the secret names (a step's due time), with a second's margin."""
    time.sleep(max(0.0, moment + 1 - time.time()))


def _when(moment: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    log = tmp_path_factory.mktemp("jwt_schedule") / "localcloud.log"
    with private_cloud(log) as url:
        yield Cloud(url, log)


def test_scheduled_rotations_walk_add_promote_retire_and_sign_nobody_out(cloud: Cloud) -> None:
    run = cloud.converge()
    assert run.returncode == 0, run.output[-4000:]
    described = cloud.secrets.describe_secret(SecretId=SECRET)
    assert (described["RotationEnabled"], described["RotationLambdaARN"], described["RotationRules"]) == (
        True, FUNCTION, {"AutomaticallyAfterDays": 15})

    # 1. Setting the schedule rotated at once: a key is added; k0 (the data tier's) still signs.
    cloud.wait_rotated()
    first, added = cloud.value(VersionStage="AWSPREVIOUS"), cloud.value()
    keys = keyring_from_secret(added)
    assert keys.current == "k0" and len(keys.keys) == 2 and keys.keys["k0"] == first["jwt_signing_key"]
    others = {k: v for k, v in first.items() if not k.startswith("jwt_")}
    assert others and {k: v for k, v in added.items() if not k.startswith("jwt_")} == others

    # The app, as it runs: the secret re-read from the local cloud (here at every call).
    app = AccessTokens(KeyringSource(SecretValue(
        SECRET, secrets_manager_fetch(SECRET, cloud.secrets), {}, max_age=0.001)), 900)
    token_k0 = app.issue("user-1")
    assert jwt.get_unverified_header(token_k0)["kid"] == "k0"

    # 2. The next rotation, once the key has settled, promotes it: the signing key id changes.
    _until(added["jwt_added_at"] + SETTLE)
    second = cloud.rotate()
    cloud.wait_rotated(second)
    promoted = cloud.value()
    new_kid = promoted["jwt_current_kid"]
    assert new_kid != "k0" and set(promoted["jwt_keys"]) == {"k0", new_kid}
    assert app.verify(token_k0) == "user-1"  # signed before the rotation
    token_new = app.issue("user-2")
    assert jwt.get_unverified_header(token_new)["kid"] == new_kid

    # 3. Too early: nothing is due until the old key's tokens have expired. The rotation
    # fails with the time, and AWSCURRENT stays where it was.
    current = cloud.current_version()
    early = cloud.rotate()
    line = cloud.wait_failed(1)
    due = promoted["jwt_promoted_at"] + TOKENS + SETTLE
    assert f"no JWT keyring step is due: retire is due at {_when(due)}" in line, line
    assert cloud.current_version() == current and cloud.value() == promoted
    assert cloud.labels()[early] == ["AWSPENDING"]
    assert app.verify(token_k0) == "user-1" and app.verify(token_new) == "user-2"

    # 4. Retried once due (Secrets Manager retries the failed rotation's version): retire + add.
    _until(due)
    assert cloud.rotate(ClientRequestToken=early) == early
    cloud.wait_rotated(early, failed=1)
    retired = cloud.value()
    assert retired["jwt_current_kid"] == new_kid and "k0" not in retired["jwt_keys"]
    assert len(retired["jwt_keys"]) == 2 and {k: v for k, v in retired.items() if not k.startswith("jwt_")} == others
    assert app.verify(token_new) == "user-2"
    with pytest.raises(AuthFailed):  # the oracle can fail: k0 is gone
        app.verify(token_k0)

    # No key in any log of the local cloud or of the function.
    logs = cloud.log.read_text()
    for key in {**promoted["jwt_keys"], **retired["jwt_keys"]}.values():
        assert key not in logs

    # 5. The data tier keeps the rotated keyring: nothing to change.
    again = cloud.converge()
    assert again.returncode == 0 and again.recap["changed"] == 0, again.output[-4000:]
    assert cloud.value() == retired

    # 6. rotate_jwt_key.yml still works beside the schedule, and leaves it on.
    _until(retired["jwt_added_at"] + SETTLE)
    by_hand = run_playbook("playbooks/rotate_jwt_key.yml", cloud.url,
                           extra={**FAST, "autobuy_jwt_rotation": "promote"})
    assert by_hand.returncode == 0 and by_hand.recap["changed"] >= 1, by_hand.output[-4000:]
    after = cloud.value()
    assert after["jwt_current_kid"] not in ("k0", new_kid) and new_kid in after["jwt_keys"]
    assert app.verify(token_new) == "user-2"
    described = cloud.secrets.describe_secret(SecretId=SECRET)
    assert (described["RotationEnabled"], described["RotationLambdaARN"]) == (True, FUNCTION)
