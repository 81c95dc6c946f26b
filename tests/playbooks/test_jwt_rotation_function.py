"""The rotation function of taskapp/app's JWT signing key (playbooks/files/jwt_rotation/).

The oracles are Secrets Manager's rotation protocol (the four steps, the staging labels)
and the app's own reading of the secret (autobuy.services.tokens): each step and its retry
runs against a fake of Secrets Manager; a series of rotations, as a schedule runs them,
must walk add -> promote -> retire + add -> promote, and a token the app signed before a
rotation must verify with the keyring the rotation leaves. The function is imported from
its packaged zip (package.py), as Lambda runs it. On a local cloud: tests/localcloud/test_twin_jwt_rotation.py.
"""
from __future__ import annotations

import importlib
import json
import logging
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from autobuy.services.tokens import AccessTokens, AuthFailed, keyring_from_secret
from tests.conftest import ROOT
from tests.playbooks.rotation_fakes import FakeSecrets

HERE = ROOT / "playbooks/files/jwt_rotation"
ARN = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:taskapp/app-AbCdEf"
OLD = "o" * 64
APP = {"jwt_signing_key": OLD, "stripe_secret_key": "sk_test_x", "stripe_webhook_secret": "whsec_x",
       "google_client_id": "g.apps"}
SETTLE, TOKENS = 360, 900
T0 = 1_800_000_000  # 2027-01-15 08:00:00 UTC


@pytest.fixture(scope="module")
def fn(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The function as packaged: lambda_function and jwt_keyring from the zip."""
    out = tmp_path_factory.mktemp("jwt_rotation") / "function.zip"
    subprocess.run([sys.executable, str(HERE / "package.py"), str(out)], check=True, capture_output=True)
    names = ("lambda_function", "jwt_keyring", "rotation_protocol")
    saved = {name: sys.modules.pop(name) for name in names if name in sys.modules}  # other tests' copies
    sys.path.insert(0, str(out))
    try:
        module = importlib.import_module("lambda_function")
        assert Path(module.__file__).parent == out and Path(module.jwt_keyring.__file__).parent == out
        assert Path(sys.modules["rotation_protocol"].__file__).parent == out
        yield module
    finally:
        sys.path.remove(str(out))
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


class Secrets(FakeSecrets):
    """A new random key each time, counted."""

    def __init__(self, versions: dict, **kwargs: Any) -> None:
        super().__init__(versions, arn=ARN, **kwargs)
        self.made = 0

    def get_random_password(self, **kwargs: Any) -> dict:
        self.calls.append(("get_random_password", kwargs))
        self.made += 1
        return {"RandomPassword": f"{self.made:02d}".ljust(kwargs["PasswordLength"], "r")}

    def current(self) -> tuple[str, dict]:
        return next((v, value) for v, (labels, value) in self.versions.items() if "AWSCURRENT" in labels)


def _event(step: str, token: str) -> dict:
    return {"Step": step, "SecretId": ARN, "ClientRequestToken": token}


def _rotate(fn: Any, secrets: Secrets, token: str, now: int) -> None:
    """One rotation as Secrets Manager runs it: stage the token, the four steps, labels."""
    secrets.versions = {v: ([x for x in labels if x != "AWSPENDING"], value)
                        for v, (labels, value) in secrets.versions.items()}
    secrets.versions[token] = (["AWSPENDING"], None)
    for step in fn.STEPS:
        fn.lambda_handler(_event(step, token), None, client=secrets, now=now)
    labels, value = secrets.versions[token]
    secrets.versions[token] = ([x for x in labels if x != "AWSPENDING"], value)


def _tokens(secret: dict) -> AccessTokens:
    """The app's tokens with this keyring (on the real clock: PyJWT checks times on it)."""
    return AccessTokens(keyring_from_secret(secret), TOKENS)


def test_scheduled_rotations_walk_add_promote_retire_and_sign_nobody_out(fn, monkeypatch):
    monkeypatch.delenv("SETTLE_SECONDS", raising=False)
    monkeypatch.delenv("TOKEN_SECONDS", raising=False)
    secrets = Secrets({"v0": (["AWSCURRENT"], dict(APP))})
    day = 86400
    signing = ["k0"]
    for n, now in enumerate((T0, T0 + 15 * day, T0 + 30 * day, T0 + 45 * day, T0 + 60 * day), start=1):
        token_before = _tokens(secrets.current()[1]).issue("user-1")
        _rotate(fn, secrets, f"v{n}", now)
        version, after = secrets.current()
        assert version == f"v{n}"
        keys = keyring_from_secret(after)
        # The token signed before the rotation verifies with the rotated keyring.
        assert _tokens(after).verify(token_before) == "user-1"
        assert {k: after[k] for k in APP if k != "jwt_signing_key"} == {k: APP[k] for k in APP if k != "jwt_signing_key"}
        assert after["jwt_signing_key"] == keys.keys[keys.current]
        signing.append(keys.current)
        if n % 2:  # add (after a retire from the third rotation on): the signing key stays
            assert keys.current == signing[-2] and len(keys.keys) == 2
            new = next(k for k in keys.keys if k != keys.current)
            assert new == time.strftime("k%Y%m%d%H%M%S", time.gmtime(now)) and len(keys.keys[new]) == 64
        else:  # promote: the key added a rotation ago signs, the one before still verifies
            assert keys.current != signing[-2] and signing[-2] in keys.keys
    assert signing == ["k0", "k0", time.strftime("k%Y%m%d%H%M%S", time.gmtime(T0)),
                       time.strftime("k%Y%m%d%H%M%S", time.gmtime(T0)),
                       time.strftime("k%Y%m%d%H%M%S", time.gmtime(T0 + 30 * 86400)),
                       time.strftime("k%Y%m%d%H%M%S", time.gmtime(T0 + 30 * 86400))]
    assert "k0" not in keyring_from_secret(secrets.current()[1]).keys
    randoms = [kwargs for name, kwargs in secrets.calls if name == "get_random_password"]
    assert randoms == [{"PasswordLength": 64, "ExcludePunctuation": True, "IncludeSpace": False}] * 3


def test_a_rotation_with_no_step_due_fails_with_the_time_and_stages_nothing(fn, caplog):
    secrets = Secrets({"v0": (["AWSCURRENT"], dict(APP))})
    _rotate(fn, secrets, "v1", T0)  # add
    secrets.versions["v2"] = (["AWSPENDING"], None)
    with pytest.raises(fn.RotationError) as early:
        fn.lambda_handler(_event("createSecret", "v2"), None, client=secrets, now=T0 + SETTLE - 1)
    assert str(early.value) == ("no JWT keyring step is due: promote is due at 2027-01-15 08:06:00 UTC; "
                                "rotate again from then")
    assert secrets.versions["v2"] == (["AWSPENDING"], None) and secrets.current()[0] == "v1"
    # Retried once due (Secrets Manager retries a failed step with the same token).
    fn.lambda_handler(_event("createSecret", "v2"), None, client=secrets, now=T0 + SETTLE)
    promoted = secrets.versions["v2"][1]
    assert promoted["jwt_current_kid"] != "k0" and set(promoted["jwt_keys"]) == {"k0", promoted["jwt_current_kid"]}
    # After a promote, retire is due a token lifetime + settle time later.
    _rotate(fn, secrets, "v2", T0 + SETTLE)
    secrets.versions["v3"] = (["AWSPENDING"], None)
    with pytest.raises(fn.RotationError, match=r"retire is due at 2027-01-15 08:27:00 UTC"):
        fn.lambda_handler(_event("createSecret", "v3"), None, client=secrets, now=T0 + 2 * SETTLE + TOKENS - 1)
    assert OLD not in caplog.text and "r" * 60 not in caplog.text


def test_settle_and_token_seconds_come_from_the_environment(fn, monkeypatch):
    monkeypatch.setenv("SETTLE_SECONDS", "10")
    monkeypatch.setenv("TOKEN_SECONDS", "20")
    secrets = Secrets({"v0": (["AWSCURRENT"], dict(APP))})
    _rotate(fn, secrets, "v1", T0)
    _rotate(fn, secrets, "v2", T0 + 10)
    _rotate(fn, secrets, "v3", T0 + 40)  # retire + add
    assert len(keyring_from_secret(secrets.current()[1]).keys) == 2
    monkeypatch.setenv("TOKEN_SECONDS", "soon")
    secrets.versions["v4"] = (["AWSPENDING"], None)
    with pytest.raises(fn.RotationError, match="TOKEN_SECONDS must be a whole number of seconds, not 'soon'"):
        fn.lambda_handler(_event("createSecret", "v4"), None, client=secrets, now=T0 + 100)


def test_each_step_run_again_changes_nothing(fn):
    secrets = Secrets({"v0": (["AWSCURRENT"], dict(APP)), "v1": (["AWSPENDING"], None)})
    for step in fn.STEPS[:3]:
        fn.lambda_handler(_event(step, "v1"), None, client=secrets, now=T0)
        fn.lambda_handler(_event(step, "v1"), None, client=secrets, now=T0 + 1)
    assert [name for name, _ in secrets.calls] == ["get_random_password", "put_secret_value"]
    fn.lambda_handler(_event("finishSecret", "v1"), None, client=secrets, now=T0)
    fn.lambda_handler(_event("finishSecret", "v1"), None, client=secrets, now=T0)
    assert [name for name, _ in secrets.calls].count("update_secret_version_stage") == 1
    assert secrets.versions["v0"][0] == ["AWSPREVIOUS"] and "AWSCURRENT" in secrets.versions["v1"][0]
    put = next(kwargs for name, kwargs in secrets.calls if name == "put_secret_value")
    assert put["VersionStages"] == ["AWSPENDING"] and put["ClientRequestToken"] == "v1"


def test_set_secret_has_nothing_to_set(fn, caplog):
    secrets = Secrets({"v0": (["AWSCURRENT"], dict(APP)), "v1": (["AWSPENDING"], None)})
    with caplog.at_level(logging.INFO):
        fn.lambda_handler(_event("setSecret", "v1"), None, client=secrets)
    assert secrets.calls == [] and "nothing to set" in caplog.text


@pytest.mark.parametrize(("pending", "message"), [
    ({**APP, "jwt_keys": {"k1": "n" * 64}, "jwt_current_kid": "k1", "jwt_signing_key": "n" * 64},
     "drops key k0, which signs now"),
    ({**APP, "jwt_keys": {"k0": OLD, "k1": "short"}, "jwt_current_kid": "k0"},
     "key k1 must be a string of at least 32 characters"),
    ({**APP, "jwt_keys": {"k0": OLD}, "jwt_current_kid": "k9"}, "jwt_current_kid 'k9' is not among the keys"),
    ({**APP, "jwt_keys": {"k0": OLD, "k1": "n" * 64}, "jwt_current_kid": "k1"},
     "jwt_signing_key is not the key of jwt_current_kid k1"),
    ({**APP, "stripe_secret_key": "sk_test_other"}, "stripe_secret_key of .* changed during the rotation"),
])
def test_test_secret_refuses_a_keyring_the_app_cannot_use_or_other_fields_changed(fn, pending, message):
    secrets = Secrets({"v0": (["AWSCURRENT"], dict(APP)), "v1": (["AWSPENDING"], pending)})
    with pytest.raises(fn.RotationError, match=message) as refused:
        fn.lambda_handler(_event("testSecret", "v1"), None, client=secrets)
    assert OLD not in str(refused.value) and "n" * 64 not in str(refused.value)


def test_requests_outside_a_rotation_are_refused(fn):
    secrets = Secrets({"v0": (["AWSCURRENT"], dict(APP)), "v1": (["AWSPENDING"], None)})
    with pytest.raises(fn.RotationError, match="invalid step 'dropSecret'"):
        fn.lambda_handler(_event("dropSecret", "v1"), None, client=secrets)
    with pytest.raises(fn.RotationError, match="version v9 has no stage"):
        fn.lambda_handler(_event("createSecret", "v9"), None, client=secrets)
    with pytest.raises(fn.RotationError, match="rotation event without ClientRequestToken"):
        fn.lambda_handler({"Step": "createSecret", "SecretId": ARN}, None, client=secrets)
    secrets.enabled = False
    with pytest.raises(fn.RotationError, match="not enabled for rotation"):
        fn.lambda_handler(_event("createSecret", "v1"), None, client=secrets)
    secrets.enabled = True
    secrets.versions["v0"] = (["AWSCURRENT"], ["not", "an", "object"])
    with pytest.raises(fn.RotationError, match="AWSCURRENT value of .* is not a JSON object"):
        fn.lambda_handler(_event("createSecret", "v1"), None, client=secrets)
    assert secrets.calls == []


def test_the_package_is_the_same_bytes_every_time_with_the_filters_keyring(tmp_path: Path):
    sums = [subprocess.run([sys.executable, str(HERE / "package.py"), str(tmp_path / f"{n}.zip")],
                           check=True, capture_output=True, text=True).stdout for n in (1, 2)]
    assert sums[0] == sums[1] and len(sums[0].strip()) == 44
    archive = zipfile.ZipFile(tmp_path / "1.zip")
    assert archive.namelist() == ["jwt_keyring.py", "lambda_function.py", "rotation_protocol.py"]
    assert archive.read("jwt_keyring.py") == (ROOT / "plugins/plugin_utils/jwt_keyring.py").read_bytes()


def test_a_token_of_a_retired_key_no_longer_verifies(fn):
    """The oracle can fail: a token of the key the third rotation retires is refused."""
    secrets = Secrets({"v0": (["AWSCURRENT"], dict(APP))})
    old_token = _tokens(APP).issue("user-1")
    for n, now in enumerate((T0, T0 + SETTLE, T0 + 2 * SETTLE + TOKENS), start=1):
        _rotate(fn, secrets, f"v{n}", now)
    with pytest.raises(AuthFailed):
        _tokens(secrets.current()[1]).verify(old_token)
    assert json.dumps(secrets.current()[1]).count(OLD) == 0
