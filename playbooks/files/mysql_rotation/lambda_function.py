"""Secrets Manager rotation function of ``taskapp/database``: single-user MySQL rotation.

The function AWS publishes as ``SecretsManagerRDSMySQLRotationSingleUser`` (Serverless
Application Repository), written again here because that repository is out of reach of
the local cloud and of an offline build: the same four steps of Secrets Manager's
rotation protocol, the same secret shape, the same fallbacks. Secrets Manager invokes
``lambda_handler`` once per step with ``{"Step", "SecretId", "ClientRequestToken"}``; the
token is the id of the new version, which Secrets Manager has already staged as
``AWSPENDING`` (with no value yet) before the first step.

1. ``createSecret``: the ``AWSPENDING`` version gets the current value with a new
   password from ``GetRandomPassword`` (no character a MySQL URL or shell quoting
   dislikes). Already there (a retried step): left as it is.
2. ``setSecret``: the database user's password becomes the pending one (``SET PASSWORD``
   on a connection as the user itself, logged in with the pending, the current or else
   the previous password, in that order: a step that ran before is not repeated).
3. ``testSecret``: the pending password logs in.
4. ``finishSecret``: ``AWSCURRENT`` moves to the new version (Secrets Manager moves
   ``AWSPREVIOUS`` to the version that had it).

Every connection uses TLS and verifies the server's certificate and name against the
runtime's trust store (``SSL_CERT_FILE`` when set, else Lambda's system bundle, which
holds the RDS CAs), as the database requires TLS. Passwords are never logged.

Environment: ``EXCLUDE_CHARACTERS`` (default below), ``PASSWORD_LENGTH`` (default 32).
The Secrets Manager client takes its endpoint from boto3's configuration
(``AWS_ENDPOINT_URL_SECRETS_MANAGER`` / ``AWS_ENDPOINT_URL`` when set).
"""
from __future__ import annotations

import json
import logging
import os
import ssl
from typing import Any

import pymysql

from rotation_protocol import (STEPS, RotationError, finish_secret, pending_staged, run_step,
                               secret_json)

logger = logging.getLogger()
logger.setLevel(logging.INFO)

# AWS's default ('/@"\'\\') and what breaks a mysql:// URL or a shell word: ':' '?' '#'
# '[' ']' '%' '&' '+' '=' ';' '`' '$' and the space.
EXCLUDE_CHARACTERS = "/@\"'\\:?#[]%&+=;`$ "
PASSWORD_LENGTH = 32
# Lambda's Python runtimes (Amazon Linux): the system bundle, which trusts the RDS CAs.
LAMBDA_TRUST_STORE = "/etc/pki/tls/cert.pem"
REQUIRED_FIELDS = ("host", "username", "password")
CONNECT_TIMEOUT = 5
__all__ = ["STEPS", "RotationError", "lambda_handler"]


def lambda_handler(event: dict[str, Any], context: Any, client: Any = None) -> None:
    """Run the rotation step ``event["Step"]`` for the version ``event["ClientRequestToken"]``
    (the event and labels checked by rotation_protocol.py)."""
    run_step(event, client, {"createSecret": create_secret, "setSecret": set_secret,
                             "testSecret": test_secret, "finishSecret": finish_secret})


def create_secret(client: Any, arn: str, token: str) -> None:
    """Stage the current value with a new password as ``AWSPENDING`` (once per token)."""
    current = get_secret_dict(client, arn, "AWSCURRENT")
    if pending_staged(client, arn, token):
        return
    password = client.get_random_password(
        PasswordLength=int(os.environ.get("PASSWORD_LENGTH", PASSWORD_LENGTH)),
        ExcludeCharacters=os.environ.get("EXCLUDE_CHARACTERS", EXCLUDE_CHARACTERS))["RandomPassword"]
    client.put_secret_value(SecretId=arn, ClientRequestToken=token,
                            SecretString=json.dumps({**current, "password": password}),
                            VersionStages=["AWSPENDING"])
    logger.info("createSecret: staged a new password for %s as version %s", arn, token)


def set_secret(client: Any, arn: str, token: str) -> None:
    """Make the pending password the database user's own."""
    pending = get_secret_dict(client, arn, "AWSPENDING", token)
    connection = get_connection(pending)
    if connection is not None:
        connection.close()
        logger.info("setSecret: the pending password of %s already logs in", arn)
        return
    current = get_secret_dict(client, arn, "AWSCURRENT")
    for field in ("username", "host"):
        if current[field] != pending[field]:
            raise RotationError(f"setSecret: the pending {field} of {arn} differs from the current one")

    connection = get_connection(current)
    if connection is None:
        # The password may have been changed to the previous one by a restore: AWS's
        # function tries AWSPREVIOUS too.
        try:
            previous = get_secret_dict(client, arn, "AWSPREVIOUS")
        except (client.exceptions.ResourceNotFoundException, RotationError):
            previous = None  # none, or not a complete value (e.g. from before the host was known)
        if previous is not None and (previous["username"], previous["host"]) == (pending["username"], pending["host"]):
            connection = get_connection(previous)
    if connection is None:
        raise RotationError(f"setSecret: no password of {arn} (pending, current or previous) logs in")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            version = cursor.fetchone()[0]
            cursor.execute("SET PASSWORD = " + password_expression(version), (pending["password"],))
        connection.commit()
    finally:
        connection.close()
    logger.info("setSecret: set the pending password of %s in the database", arn)


def password_expression(version: str) -> str:
    """MySQL 8 takes the password itself; MySQL 5.7 and MariaDB take ``PASSWORD(...)``."""
    return "%s" if version.startswith("8") else "PASSWORD(%s)"


def test_secret(client: Any, arn: str, token: str) -> None:
    """Log in with the pending password and run a query."""
    connection = get_connection(get_secret_dict(client, arn, "AWSPENDING", token))
    if connection is None:
        raise RotationError(f"testSecret: the pending password of {arn} does not log in")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT NOW()")
        connection.commit()
    finally:
        connection.close()
    logger.info("testSecret: the pending password of %s logs in", arn)


def tls_context() -> ssl.SSLContext:
    """Verify the server's chain and name against the runtime's trust store."""
    cafile = os.environ.get("SSL_CERT_FILE") or LAMBDA_TRUST_STORE
    context = ssl.create_default_context(cafile=cafile)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def get_connection(secret: dict[str, Any]) -> pymysql.connections.Connection | None:
    """A TLS connection as the secret's user, or None when its password is refused."""
    try:
        return pymysql.connect(host=secret["host"], port=int(secret.get("port") or 3306),
                               user=secret["username"], password=secret["password"],
                               database=secret.get("dbname") or None,
                               connect_timeout=CONNECT_TIMEOUT, ssl=tls_context())
    except pymysql.OperationalError as error:
        # 1045: access denied (a wrong password); anything else (unreachable, TLS) too is
        # "this password does not log in" for the caller, as in AWS's function; the code
        # and message name no secret.
        logger.info("could not log in to %s as %s: %s", secret["host"], secret["username"], error.args[0])
        return None


def get_secret_dict(client: Any, arn: str, stage: str, token: str | None = None) -> dict[str, Any]:
    """The secret's JSON value at ``stage`` (of version ``token``), checked for the fields."""
    secret = secret_json(client, arn, stage, token)
    missing = [field for field in REQUIRED_FIELDS if not secret.get(field)]
    if missing:
        raise RotationError(f"the {stage} value of {arn} lacks {', '.join(missing)}")
    engine = secret.get("engine", "mysql")
    if engine not in ("mysql", "mariadb"):
        raise RotationError(f"the {stage} value of {arn} is for engine {engine!r}, not mysql")
    return secret
