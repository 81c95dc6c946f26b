"""The steps of a JWT key rotation (filter autobuy_jwt_rotation), checked against the app's
own reading of the secret (autobuy.services.tokens.keyring_from_secret)."""
from __future__ import annotations

import pytest

from ansible_collections.autobuy.guard.plugins.filter.jwt_keyring import autobuy_jwt_rotation
from autobuy.services.tokens import keyring_from_secret

OLD, NEW = "o" * 40, "n" * 40
LEGACY = {"jwt_signing_key": OLD, "google_client_id": "g"}


def test_add_promote_retire_from_a_secret_without_key_ids():
    added = autobuy_jwt_rotation(LEGACY, "add", now=1000, new_key=NEW, new_kid="k2", settle_seconds=120)
    assert added["changed"] and not added["failed"]
    keys = keyring_from_secret(added["secret"])
    assert (keys.current, dict(keys.keys)) == ("k0", {"k0": OLD, "k2": NEW})  # verifies, does not sign
    assert added["secret"]["google_client_id"] == "g"

    early = autobuy_jwt_rotation(added["secret"], "promote", now=1119, settle_seconds=120)
    assert early["failed"] and not early["changed"] and "promote is due at" in early["msg"]
    promoted = autobuy_jwt_rotation(added["secret"], "promote", now=1120, settle_seconds=120)
    assert promoted["changed"]
    keys = keyring_from_secret(promoted["secret"])
    assert keys.current == "k2" and set(keys.keys) == {"k0", "k2"}
    assert promoted["secret"]["jwt_signing_key"] == NEW

    early = autobuy_jwt_rotation(promoted["secret"], "retire", now=1120 + 900 + 119, settle_seconds=120)
    assert early["failed"] and "k0 may still be in use" in early["msg"]
    retired = autobuy_jwt_rotation(promoted["secret"], "retire", now=1120 + 900 + 120, settle_seconds=120)
    assert retired["changed"] and dict(keyring_from_secret(retired["secret"]).keys) == {"k2": NEW}
    again = autobuy_jwt_rotation(retired["secret"], "retire", now=5000)
    assert not again["changed"] and not again["failed"]


def test_steps_with_nothing_to_do_change_nothing():
    added = autobuy_jwt_rotation(LEGACY, "add", now=1, new_key=NEW, new_kid="k2")["secret"]
    assert not autobuy_jwt_rotation(added, "add", now=2, new_key="x" * 40, new_kid="k3")["changed"]
    assert not autobuy_jwt_rotation(LEGACY, "promote", now=2)["changed"]
    promoted = autobuy_jwt_rotation(added, "promote", now=500)["secret"]
    assert not autobuy_jwt_rotation(promoted, "promote", now=600)["changed"]
    blocked = autobuy_jwt_rotation(promoted, "add", now=700, new_key="x" * 40, new_kid="k3")
    assert not blocked["changed"] and "not retired yet" in blocked["msg"]


@pytest.mark.parametrize(("secret", "kwargs", "message"), [
    ({}, {"new_key": NEW, "new_kid": "k1"}, "neither jwt_keys nor jwt_signing_key"),
    (LEGACY, {"new_key": NEW, "new_kid": "bad kid"}, "new_kid must match"),
    (LEGACY, {"new_key": NEW, "new_kid": "k0"}, "k0 is already in the keyring"),
    (LEGACY, {"new_key": "short", "new_kid": "k1"}, "at least 32 characters"),
    ({"jwt_keys": {"k1": OLD}, "jwt_current_kid": "k9"}, {"new_key": NEW, "new_kid": "k2"}, "not among the keys"),
])
def test_bad_input_fails_with_a_reason_and_no_key(secret, kwargs, message):
    result = autobuy_jwt_rotation(secret, "add", now=1, **kwargs)
    assert result["failed"] and not result["changed"] and message in result["msg"]
    assert OLD not in result["msg"] and NEW not in result["msg"]


def test_an_unknown_step_fails():
    assert "step must be add, promote or retire" in autobuy_jwt_rotation(LEGACY, "drop", now=1)["msg"]
