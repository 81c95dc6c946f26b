"""The twin's RDS servers speak TLS with a certificate from the twin CA for the endpoint, and
honour ``require_secure_transport`` of the DB instance's parameter group (LOCALCLOUD_TWIN=on).

The oracle is the server itself: a TLS connection verified against the twin CA gets in
and reports its cipher; a plain one is refused while the parameter is on and let in once
``ModifyDBParameterGroup`` turns it off. Needs Docker and ``autobuy/mariadb:latest`` (built
by the fixture); skips without Docker, fails under CI.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pymysql
import pytest

from localcloud.twin.ca import CertificateAuthority
from localcloud.twin import IMAGES as TWIN_IMAGES
from localcloud_helpers import start_server, stop_server
from test_twin import _json

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.twin]

USER, PASSWORD, DB = "admin", "tls-drill-Pw-12345678", "autobuy"
GROUP = "tls-required"


class Cloud:
    def __init__(self, url: str, state: Path) -> None:
        self.url, self.state = url, state
        self.rds = boto3.client("rds", endpoint_url=url, region_name="eu-central-1",
                                aws_access_key_id="localcloud", aws_secret_access_key="localcloud")

    @property
    def ca_file(self) -> str:
        return _json(self.url + "/localcloud/twin")["ca_cert"]

    def database(self, identifier: str) -> dict[str, Any]:
        return _json(self.url + "/localcloud/twin")["databases"][identifier]

    def wait_available(self, identifier: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while True:
            found = self.rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
            if found["DBInstanceStatus"] == "available":
                return
            assert found["DBInstanceStatus"] == "creating", found["DBInstanceStatus"]
            assert time.monotonic() < deadline, f"{identifier} still creating"
            time.sleep(0.5)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory, docker_images: Callable[..., None]) -> Iterator[Cloud]:
    docker_images(TWIN_IMAGES)
    state = tmp_path_factory.mktemp("rds_tls_state")
    url, proc = start_server(state / "localcloud.log", {
        "LOCALCLOUD_TWIN": "on", "LOCALCLOUD_STATE_DIR": str(state),
        "LOCALCLOUD_RDS_CREATE_SECONDS": "1"})
    try:
        yield Cloud(url, state)
    finally:
        stop_server(proc)


def _connect(address: str, **tls: Any) -> pymysql.connections.Connection:
    host, port = address.split(":")
    return pymysql.connect(host=host, port=int(port), user=USER, password=PASSWORD,
                           database=DB, connect_timeout=5, **tls)


def _cipher(connection: pymysql.connections.Connection) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        return cursor.fetchone()[1]


def test_tls_with_the_twin_ca_works_and_plain_is_refused_while_required(cloud: Cloud,
                                                                         tmp_path: Path):
    rds = cloud.rds
    rds.create_db_parameter_group(DBParameterGroupName=GROUP, DBParameterGroupFamily="mysql8.4",
                                  Description="TLS only")
    rds.modify_db_parameter_group(DBParameterGroupName=GROUP, Parameters=[{
        "ParameterName": "require_secure_transport", "ParameterValue": "1",
        "ApplyMethod": "immediate"}])
    rds.create_db_instance(
        DBInstanceIdentifier="tls-db", Engine="mysql", DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20, MasterUsername=USER, MasterUserPassword=PASSWORD, DBName=DB,
        DBParameterGroupName=GROUP)
    cloud.wait_available("tls-db")
    database = cloud.database("tls-db")
    assert database["require_secure_transport"] is True
    address = database["host_address"]

    # TLS, the server's certificate verified against the twin CA (name 127.0.0.1 checked).
    with _connect(address, ssl_ca=cloud.ca_file, ssl_verify_cert=True,
                  ssl_verify_identity=True) as connection:
        assert _cipher(connection)

    # The app's engine (AUTOBUY_DB_TLS_CA) connects over verified TLS.
    from sqlalchemy import text

    from autobuy.config import Settings
    from autobuy.db import make_engine

    host, port = address.split(":")
    settings = Settings(_env_file=None, env="development", db_host=host, db_port=int(port),
                        db_user=USER, db_password=PASSWORD, db_name=DB, db_tls_ca=cloud.ca_file,
                        jwt_signing_key="j" * 40, google_client_id="c", stripe_secret_key="s" * 20,
                        stripe_webhook_secret="w" * 20)
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW SESSION STATUS LIKE 'Ssl_cipher'")).one()[1]
    finally:
        engine.dispose()

    # Another CA does not verify the server.
    other = tmp_path / "other-ca.crt"
    other.write_bytes(CertificateAuthority.open(tmp_path).cert_pem)  # another state dir's CA
    with pytest.raises(pymysql.err.OperationalError):
        _connect(address, ssl_ca=str(other), ssl_verify_cert=True)

    # Plain TCP is refused while the parameter group requires secure transport (PyMySQL
    # tries TLS by itself when it is given no TLS option: ssl_disabled makes it plain).
    with pytest.raises(pymysql.err.OperationalError) as refused:
        _connect(address, ssl_disabled=True)
    # MariaDB answers "access denied" (1045); the same credentials got in over TLS above.
    assert refused.value.args[0] == 1045, refused.value

    # The parameter is dynamic: turned off, a plain connection gets in (no cipher).
    rds.modify_db_parameter_group(DBParameterGroupName=GROUP, Parameters=[{
        "ParameterName": "require_secure_transport", "ParameterValue": "0",
        "ApplyMethod": "immediate"}])
    assert cloud.database("tls-db")["require_secure_transport"] is False
    with _connect(address, ssl_disabled=True) as connection:
        assert _cipher(connection) == ""
    rds.delete_db_instance(DBInstanceIdentifier="tls-db", SkipFinalSnapshot=True)


def test_an_endpoint_longer_than_a_common_name_gets_its_certificate(cloud: Cloud):
    """X.509 limits the subject's CN to 64 characters; an endpoint may be longer (a restored
    instance's, e.g.): the server still starts and its name verifies (SAN)."""
    identifier = "taskapp-database-restored-20261201"
    cloud.rds.create_db_instance(
        DBInstanceIdentifier=identifier, Engine="mysql", DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20, MasterUsername=USER, MasterUserPassword=PASSWORD, DBName=DB)
    cloud.wait_available(identifier)
    database = cloud.database(identifier)
    assert len(database["endpoint"]) > 64
    with _connect(database["host_address"], ssl_ca=cloud.ca_file, ssl_verify_cert=True,
                  ssl_verify_identity=True) as connection:
        assert _cipher(connection)
    cloud.rds.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True)
