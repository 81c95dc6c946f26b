"""playbooks/rotate_jwt_key.yml on a local cloud: a JWT key rotation signs nobody out.

The oracle is the app's own token code (autobuy.services.tokens) fed with the secret the
playbook leaves: a token signed before the rotation verifies after add + promote and is
refused after retire; a token signed after the promotion carries the new key id. Steps that
are not due are refused with the time they become due. The tests run in file order.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from provision_helpers import Run, client, private_cloud, run_playbook

from autobuy.errors import AuthFailed
from autobuy.services.tokens import AccessTokens, keyring_from_secret

pytestmark = [pytest.mark.slow, pytest.mark.playbook, pytest.mark.localcloud]

SECRET = "taskapp/app"
OLD_KEY = "old-signing-key-" + "a" * 40
OTHERS = {"stripe_secret_key": "sk_test_rotation_1", "stripe_webhook_secret": "whsec_rotation_1",
          "google_client_id": "rotation.apps.googleusercontent.com"}
FAST = {"autobuy_jwt_settle_seconds": 1, "autobuy_jwt_access_token_seconds": 3}


class Cloud:
    def __init__(self, url: str) -> None:
        self.url = url
        self.secrets = client("secretsmanager", url)

    def value(self) -> dict[str, Any]:
        return json.loads(self.secrets.get_secret_value(SecretId=SECRET)["SecretString"])

    def rotate(self, **extra: Any) -> Run:
        return run_playbook("playbooks/rotate_jwt_key.yml", self.url, extra={**FAST, **extra})

    def tokens(self) -> AccessTokens:
        return AccessTokens(keyring_from_secret(self.value()), 900)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    with private_cloud(tmp_path_factory.mktemp("rotate") / "localcloud.log") as url:
        running = Cloud(url)
        # The app secret as the data tier writes it (before key ids).
        running.secrets.create_secret(Name=SECRET, SecretString=json.dumps(
            {"jwt_signing_key": OLD_KEY, **OTHERS}))
        yield running


def assert_ok(run: Run, changed: int | None = None) -> None:
    assert run.returncode == 0, run.output[-4000:]
    if changed is not None:
        assert run.recap["changed"] == changed, run.output[-4000:]


def test_rotate_adds_a_key_makes_it_current_and_keeps_the_old_one(cloud: Cloud) -> None:
    before = AccessTokens(OLD_KEY, 900).issue("user-1")  # signed by an app before key ids
    run = cloud.rotate()
    assert_ok(run)
    assert OLD_KEY not in run.output
    value = cloud.value()
    new_kid = value["jwt_current_kid"]
    assert new_kid != "k0" and set(value["jwt_keys"]) == {"k0", new_kid}
    assert value["jwt_keys"]["k0"] == OLD_KEY
    assert value["jwt_signing_key"] == value["jwt_keys"][new_kid] != OLD_KEY
    assert len(value["jwt_keys"][new_kid]) == 64
    assert {k: value[k] for k in OTHERS} == OTHERS  # the rest of the secret untouched
    assert value["jwt_promoted_at"] >= value["jwt_added_at"] + 1  # promoted after settling

    tokens = cloud.tokens()
    assert tokens.verify(before) == "user-1"  # nobody signed out
    after = tokens.issue("user-2")
    assert jwt.get_unverified_header(after)["kid"] == new_kid
    assert tokens.verify(after) == "user-2"
    # The secret keeps its resource policy (every write passes it).
    assert cloud.secrets.get_resource_policy(SecretId=SECRET).get("ResourcePolicy")


def test_a_second_rotate_before_retiring_changes_nothing(cloud: Cloud) -> None:
    value = cloud.value()
    run = cloud.rotate()
    assert_ok(run, changed=0)
    assert "not retired yet" in run.output
    assert cloud.value() == value


def test_retire_is_refused_until_the_old_tokens_have_expired(cloud: Cloud) -> None:
    value = cloud.value()
    run = cloud.rotate(autobuy_jwt_rotation="retire", autobuy_jwt_access_token_seconds=3600)
    assert run.returncode != 0
    assert "retire is due at" in run.output and "k0 may still be in use" in run.output
    assert OLD_KEY not in run.output
    assert cloud.value() == value


def test_retire_removes_the_old_key_then_changes_nothing(cloud: Cloud) -> None:
    before = AccessTokens(OLD_KEY, 900).issue("user-1")
    promoted = cloud.value()["jwt_promoted_at"]
    while time.time() < promoted + 3 + 1 + 1:  # token + settle seconds of FAST, and a margin
        time.sleep(0.5)
    assert_ok(cloud.rotate(autobuy_jwt_rotation="retire"))
    value = cloud.value()
    assert list(value["jwt_keys"]) == [value["jwt_current_kid"]]
    with pytest.raises(AuthFailed):
        cloud.tokens().verify(before)
    assert_ok(cloud.rotate(autobuy_jwt_rotation="retire"), changed=0)
