"""Fixtures for the API tests: an app on in-memory fakes, signed-in clients."""
from __future__ import annotations

from collections.abc import Iterator

import falcon.testing
import pytest

from autobuy.app import Stores, create_app
from tests.app import helpers


@pytest.fixture(scope="session")
def google_keys() -> Iterator[helpers.GoogleKeys]:
    keys = helpers.GoogleKeys()
    yield keys
    keys.close()


@pytest.fixture
def settings(google_keys):
    return helpers.settings(google_jwks_url=google_keys.url)


@pytest.fixture
def stores() -> Stores:
    return helpers.memory_stores()


@pytest.fixture
def client(settings, stores) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(settings, stores=stores))


def sign_in(client: falcon.testing.TestClient, email: str = "ana@example.com") -> dict:
    result = client.simulate_post("/v1/auth/dev", json={"email": email})
    assert result.status_code == 200, result.text
    return result.json


@pytest.fixture
def tokens(client) -> dict:
    return sign_in(client)


@pytest.fixture
def auth(tokens) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


# ---- real services: MariaDB (started here) and DynamoDB on the local cloud ------------
import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

from tests.conftest import ROOT, free_port  # noqa: E402


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory):
    """A private MariaDB on a free loopback port for this session (installed if missing)."""
    if not (shutil.which("mariadbd") or Path("/usr/sbin/mariadbd").exists()):
        subprocess.run([str(ROOT / "scripts/system-deps.sh"), "mariadb"], check=True)
    from autobuy.dev.mariadb import MariaDB

    base = Path(f"/tmp/autobuy-test-mariadb-{os.getpid()}")
    server = MariaDB(base, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def mysql_settings(mariadb, google_keys):
    """Settings for a fresh, empty database on the session's MariaDB."""
    name = "t_" + secrets.token_hex(4)
    password = "pw-" + secrets.token_hex(12)
    mariadb.ensure_database(name, "autobuy", password)
    yield helpers.settings(db_host="127.0.0.1", db_port=mariadb.port, db_user="autobuy",
                           db_password=password, db_name=name, google_jwks_url=google_keys.url)
    mariadb.sql(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def mysql_engine(mysql_settings):
    from autobuy.db import make_engine
    from autobuy.migrate import run

    # as on an instance: the migrations on an engine with the migration time limits (a
    # DDL may take longer than a request's 1 s read timeout), then the app's own engine
    migrations = make_engine(mysql_settings, migrations=True)
    run(migrations, "upgrade", "head")
    migrations.dispose()
    engine = make_engine(mysql_settings)
    yield engine
    engine.dispose()


@pytest.fixture
def dynamo_tables(dynamodb_cloud):
    """The shared table definition created on the local cloud under a unique prefix; each
    test runs twice, with the local cloud's speed patches on and off (``dynamodb_cloud``)."""
    import boto3

    from autobuy.dev.tables import ensure_tables

    prefix = "t" + secrets.token_hex(3) + "_"
    client = boto3.client("dynamodb", endpoint_url=dynamodb_cloud, region_name="eu-central-1")
    ensure_tables(client, prefix)
    yield client, prefix
