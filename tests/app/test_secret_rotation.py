"""Rotation without a restart or a sign-out (docs/security.md, "Rotation").

* JWT keys: tokens carry the key id of the key that signed them; a token verifies while
  its key is in the app secret's keyring; a new secret value is picked up once the cached
  copy is older than the cache time, without a restart.
* The database password: a connection MySQL refuses with 1045 re-reads the database
  secret and connects with the new password (real MariaDB, secret on the local cloud).
"""
from __future__ import annotations

import json
import secrets

import boto3
import jwt
import pytest
from sqlalchemy import text

from autobuy.errors import AuthFailed
from autobuy.secret_values import KeyringSource, SecretUnavailable, SecretValue
from autobuy.services.tokens import LEGACY_KID, AccessTokens, Keyring, keyring_from_secret

OLD, NEW = "o" * 40, "n" * 40


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Store:
    """A secret's value as Secrets Manager would return it, with a count of reads."""

    def __init__(self, value: dict) -> None:
        self.value, self.reads, self.fail = value, 0, False

    def __call__(self) -> dict:
        self.reads += 1
        if self.fail:
            raise ConnectionError("secrets manager unreachable")
        return json.loads(json.dumps(self.value))


def _secret(current: str, **keys: str) -> dict:
    return {"jwt_keys": keys, "jwt_current_kid": current, "google_client_id": "c"}


def test_tokens_carry_the_current_key_id_and_old_keys_verify_until_retired():
    before = AccessTokens(Keyring("k1", {"k1": OLD}), 900)
    token = before.issue("user-1")
    assert jwt.get_unverified_header(token)["kid"] == "k1"

    during = AccessTokens(Keyring("k2", {"k1": OLD, "k2": NEW}), 900)
    assert during.verify(token) == "user-1"  # the old key still verifies
    fresh = during.issue("user-2")
    assert jwt.get_unverified_header(fresh)["kid"] == "k2"
    with pytest.raises(AuthFailed):
        before.verify(fresh)  # an instance without k2 does not accept it

    after = AccessTokens(Keyring("k2", {"k2": NEW}), 900)
    assert after.verify(fresh) == "user-2"
    with pytest.raises(AuthFailed):
        after.verify(token)  # k1 retired


def test_a_token_from_before_key_ids_verifies_with_the_lone_key():
    legacy = jwt.encode({"sub": "u", "iat": 1, "exp": 2**40, "iss": "autobuy",
                         "aud": "autobuy-api", "typ": "access"}, OLD, algorithm="HS256")
    assert "kid" not in jwt.get_unverified_header(legacy)
    assert AccessTokens(OLD, 900).verify(legacy) == "u"
    assert AccessTokens(keyring_from_secret(_secret("k2", k0=OLD, k2=NEW)), 900).verify(legacy) == "u"
    with pytest.raises(AuthFailed):
        AccessTokens(Keyring("k2", {"k2": NEW}), 900).verify(legacy)


def test_a_token_whose_key_id_names_another_key_is_refused():
    token = AccessTokens(Keyring("k1", {"k1": OLD}), 900).issue("u")
    forged = jwt.encode(jwt.decode(token, options={"verify_signature": False}), NEW,
                        algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(AuthFailed):
        AccessTokens(Keyring("k2", {"k1": OLD, "k2": NEW}), 900).verify(forged)


@pytest.mark.parametrize(("value", "message"), [
    ({}, "neither jwt_keys nor jwt_signing_key"),
    ({"jwt_keys": {}}, "non-empty"),
    ({"jwt_keys": {"k1": OLD}}, "jwt_current_kid is missing"),
    ({"jwt_keys": {"k1": OLD}, "jwt_current_kid": "k9"}, "'k9' is not among the keys (k1)"),
    ({"jwt_keys": {"bad kid": OLD}, "jwt_current_kid": "bad kid"}, "key ids must match"),
    ({"jwt_keys": {"k1": ""}, "jwt_current_kid": "k1"}, "without a value: k1"),
])
def test_bad_keyrings_are_refused_with_a_specific_error_and_no_key(value, message):
    with pytest.raises(ValueError) as raised:
        keyring_from_secret(value)
    assert message in str(raised.value)
    assert OLD not in str(raised.value)


def test_lone_signing_key_is_the_legacy_key_id():
    assert keyring_from_secret({"jwt_signing_key": OLD}) == Keyring(LEGACY_KID, {LEGACY_KID: OLD})


def test_a_new_secret_value_is_used_once_the_cache_is_older_than_its_bound():
    clock, store = Clock(), Store(_secret("k1", k1=OLD))
    keys = KeyringSource(SecretValue("taskapp/app", store, {}, max_age=60, clock=clock))
    assert store.reads == 1  # read at start-up
    tokens = AccessTokens(keys, 900)
    first = tokens.issue("u")

    store.value = _secret("k2", k1=OLD, k2=NEW)  # the rotation playbook's "promote"
    clock.now += 59
    assert jwt.get_unverified_header(tokens.issue("u"))["kid"] == "k1"  # cached
    assert store.reads == 1
    clock.now += 1
    second = tokens.issue("u")
    assert jwt.get_unverified_header(second)["kid"] == "k2"
    assert store.reads == 2
    assert tokens.verify(first) == "u" and tokens.verify(second) == "u"

    store.value = _secret("k2", k2=NEW)  # "retire"
    clock.now += 60
    with pytest.raises(AuthFailed):
        tokens.verify(first)


def test_an_unreadable_or_broken_secret_keeps_the_last_keys(caplog):
    clock, store = Clock(), Store(_secret("k1", k1=OLD))
    tokens = AccessTokens(KeyringSource(SecretValue("taskapp/app", store, {}, max_age=60,
                                                    clock=clock)), 900)
    token = tokens.issue("u")
    store.fail = True
    clock.now += 61
    assert tokens.verify(token) == "u"
    store.fail, store.value = False, {"jwt_keys": {"k1": OLD}, "jwt_current_kid": "k7"}
    clock.now += 61
    assert tokens.verify(token) == "u"
    assert jwt.get_unverified_header(tokens.issue("u"))["kid"] == "k1"
    assert OLD not in caplog.text and "not among the keys" in caplog.text


def test_the_app_does_not_start_without_its_secret():
    store = Store({})
    store.fail = True
    with pytest.raises(SecretUnavailable, match="taskapp/app could not be read: ConnectionError"):
        KeyringSource(SecretValue("taskapp/app", store, {}, max_age=60))


def test_forced_re_reads_are_rate_limited():
    clock, store = Clock(), Store({"password": "a"})
    value = SecretValue("db", store, {"password": "a"}, max_age=0, min_refresh_seconds=5, clock=clock)
    clock.now += 5
    store.value = {"password": "b"}
    assert value.refresh() is True and value.get() == {"password": "b"}
    store.value = {"password": "c"}
    assert value.refresh() is False and store.reads == 1  # within 5 s of the last read
    clock.now += 5
    assert value.refresh() is True and value.get()["password"] == "c"


@pytest.mark.mysql
@pytest.mark.slow
def test_a_changed_database_password_is_read_from_the_secret_without_a_restart(
        mariadb, mysql_settings, localcloud):
    from autobuy.db import make_engine

    old = mysql_settings.db_password.get_secret_value()
    name = f"test/database-{secrets.token_hex(4)}"
    client = boto3.client("secretsmanager", endpoint_url=localcloud, region_name="eu-central-1")
    client.create_secret(Name=name, SecretString=json.dumps({
        "host": "127.0.0.1", "port": mariadb.port, "username": "autobuy", "password": old,
        "dbname": mysql_settings.db_name}))
    settings = mysql_settings.model_copy(update={
        "db_secret_id": name, "aws_endpoint_url": localcloud})
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1

        # The rotation: the password changes in MySQL and in the secret.
        new = "pw-" + secrets.token_hex(12)
        mariadb.sql(f"ALTER USER 'autobuy'@'127.0.0.1' IDENTIFIED BY '{new}'")
        client.put_secret_value(SecretId=name, SecretString=json.dumps({
            "host": "127.0.0.1", "port": mariadb.port, "username": "autobuy", "password": new,
            "dbname": mysql_settings.db_name}))
        engine.pool.dispose()  # the pooled connections were opened with the old password

        with engine.connect() as connection:  # 1045 with the old one, then the new one
            assert connection.execute(text("SELECT CURRENT_USER()")).scalar().startswith("autobuy@")
    finally:
        engine.dispose()

    # Without a secret id the refused password is an error, as before.
    plain = make_engine(mysql_settings)
    try:
        with pytest.raises(Exception, match="1045"):
            plain.connect()
    finally:
        plain.dispose()


@pytest.mark.mysql
@pytest.mark.slow
def test_in_a_rotations_window_the_engine_connects_with_the_staged_password(
        mariadb, mysql_settings, localcloud):
    """Single-user rotation: setSecret has changed the password in MySQL, finishSecret has
    not yet made it AWSCURRENT. A new connection with the current password is refused
    (1045); the engine finds the staged AWSPENDING password and connects with it."""
    from autobuy.db import make_engine

    old = mysql_settings.db_password.get_secret_value()
    name = f"test/database-{secrets.token_hex(4)}"
    client = boto3.client("secretsmanager", endpoint_url=localcloud, region_name="eu-central-1")
    value = {"host": "127.0.0.1", "port": mariadb.port, "username": "autobuy", "password": old,
             "dbname": mysql_settings.db_name}
    client.create_secret(Name=name, SecretString=json.dumps(value))
    engine = make_engine(mysql_settings.model_copy(update={"db_secret_id": name, "aws_endpoint_url": localcloud}))
    try:
        new = "pw-" + secrets.token_hex(12)
        client.put_secret_value(SecretId=name, SecretString=json.dumps({**value, "password": new}),
                                VersionStages=["AWSPENDING"])  # createSecret
        mariadb.sql(f"ALTER USER 'autobuy'@'127.0.0.1' IDENTIFIED BY '{new}'")  # setSecret
        assert json.loads(client.get_secret_value(SecretId=name)["SecretString"])["password"] == old
        with engine.connect() as connection:
            assert connection.execute(text("SELECT CURRENT_USER()")).scalar().startswith("autobuy@")

    finally:
        engine.dispose()
