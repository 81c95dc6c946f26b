"""The rotation function of taskapp/database (playbooks/files/mysql_rotation/).

The oracle is Secrets Manager's rotation protocol (AWS's documentation of the four
steps and of the staging labels) and the database itself: unit tests drive each step
against fakes of Secrets Manager and of MySQL; the real test packages the function
(package.py), uploads it to a local cloud, which runs it for ``RotateSecret`` as Lambda
would (localcloud/ext/fidelity/secretsmanager_rotation.py), against a MariaDB that
requires verified TLS: afterwards the new password logs in, the old one is refused and
the versions carry the labels AWS leaves.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pymysql
import pytest

from tests.conftest import ROOT, free_port
from tests.playbooks.rotation_fakes import FakeSecrets

HERE = ROOT / "playbooks/files/mysql_rotation"
sys.path.insert(0, str(HERE.parent))  # rotation_protocol.py, beside it in the zip (package.py)
spec = importlib.util.spec_from_file_location("mysql_rotation_function", HERE / "lambda_function.py")
fn = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fn)

ARN = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:taskapp/database-AbCdEf"
CURRENT = {"host": "db.example", "port": 3306, "username": "admin", "password": "old-pw", "dbname": "taskapp"}


class FakeMySQL:
    """A MySQL server with one user: a connection logs in with its password only."""

    def __init__(self, password: str, version: str = "8.4.3") -> None:
        self.password, self.version = password, version
        self.statements: list[tuple[str, tuple]] = []
        self.logins: list[str] = []

    def connect(self, **kwargs: Any) -> Any:
        self.logins.append(kwargs["password"])
        assert kwargs["ssl"].verify_mode.name == "CERT_REQUIRED" and kwargs["ssl"].check_hostname
        if kwargs["password"] != self.password:
            raise pymysql.OperationalError(1045, "Access denied")
        server = self

        class Cursor:
            def __enter__(self) -> Cursor:
                return self

            def __exit__(self, *exc: Any) -> None:
                pass

            def execute(self, sql: str, args: tuple = ()) -> None:
                server.statements.append((sql, args))
                if sql.startswith("SET PASSWORD"):
                    server.password = args[0]

            def fetchone(self) -> tuple:
                return (server.version,)

        class Connection:
            def cursor(self) -> Cursor:
                return Cursor()

            def commit(self) -> None:
                pass

            def close(self) -> None:
                pass

        return Connection()


@pytest.fixture
def mysql(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeMySQL:
    server = FakeMySQL("old-pw")
    monkeypatch.setattr(fn.pymysql, "connect", server.connect)
    # any readable CA file: the fake server does not check it, the context must load it
    monkeypatch.setenv("SSL_CERT_FILE", str(_ca(tmp_path)))
    return server


def _ca(directory: Path) -> Path:
    from localcloud.twin.ca import CertificateAuthority

    return CertificateAuthority.open(directory).cert_path


def _event(step: str, token: str = "t2") -> dict:
    return {"Step": step, "SecretId": ARN, "ClientRequestToken": token}


def _rotating() -> FakeSecrets:
    return FakeSecrets({"t1": (["AWSCURRENT"], dict(CURRENT)), "t2": (["AWSPENDING"], None)})


def test_the_four_steps_rotate_the_password_and_move_the_labels(mysql: FakeMySQL):
    secrets = _rotating()
    for step in fn.STEPS:
        fn.lambda_handler(_event(step), None, client=secrets)
    assert secrets.versions["t2"][0] == ["AWSPENDING", "AWSCURRENT"]
    assert secrets.versions["t1"][0] == ["AWSPREVIOUS"]
    assert secrets.versions["t2"][1] == {**CURRENT, "password": "N3w-pw"}
    assert mysql.password == "N3w-pw"
    # MySQL 8 takes the password itself, as a parameter (never in the SQL text)
    assert ("SET PASSWORD = %s", ("N3w-pw",)) in mysql.statements
    (_, asked), = [c for c in secrets.calls if c[0] == "get_random_password"]
    assert set("/@\"'\\:?#[]%&+=;`$ ") <= set(asked["ExcludeCharacters"]) and asked["PasswordLength"] == 32


def test_every_step_run_twice_changes_nothing_more(mysql: FakeMySQL):
    secrets = _rotating()
    for step in fn.STEPS:
        fn.lambda_handler(_event(step), None, client=secrets)
        fn.lambda_handler(_event(step), None, client=secrets)
    assert [c[0] for c in secrets.calls] == ["get_random_password", "put_secret_value",
                                            "update_secret_version_stage"]
    assert [s for s in mysql.statements if s[0].startswith("SET")] == [("SET PASSWORD = %s", ("N3w-pw",))]


def test_a_retried_create_keeps_the_staged_password(mysql: FakeMySQL):
    secrets = FakeSecrets({"t1": (["AWSCURRENT"], dict(CURRENT)),
                           "t2": (["AWSPENDING"], {**CURRENT, "password": "staged"})})
    fn.lambda_handler(_event("createSecret"), None, client=secrets)
    assert secrets.calls == []


def test_set_secret_falls_back_to_the_previous_password(mysql: FakeMySQL):
    mysql.password = "older-pw"
    secrets = FakeSecrets({"t0": (["AWSPREVIOUS"], {**CURRENT, "password": "older-pw"}),
                           "t1": (["AWSCURRENT"], dict(CURRENT)),
                           "t2": (["AWSPENDING"], {**CURRENT, "password": "N3w-pw"})})
    fn.lambda_handler(_event("setSecret"), None, client=secrets)
    assert mysql.password == "N3w-pw"
    assert mysql.logins == ["N3w-pw", "old-pw", "older-pw"]


def test_an_incomplete_previous_version_is_not_tried(mysql: FakeMySQL):
    """The stack's first value has no host yet (the database did not exist): not a login."""
    mysql.password = "someone-elses"
    secrets = FakeSecrets({"t0": (["AWSPREVIOUS"], {**CURRENT, "host": ""}),
                           "t1": (["AWSCURRENT"], dict(CURRENT)),
                           "t2": (["AWSPENDING"], {**CURRENT, "password": "N3w-pw"})})
    with pytest.raises(fn.RotationError, match="no password of .* logs in"):
        fn.lambda_handler(_event("setSecret"), None, client=secrets)
    assert mysql.logins == ["N3w-pw", "old-pw"]


def test_set_secret_fails_when_no_password_logs_in(mysql: FakeMySQL):
    mysql.password = "someone-elses"
    secrets = _rotating()
    secrets.versions["t2"] = (["AWSPENDING"], {**CURRENT, "password": "N3w-pw"})
    with pytest.raises(fn.RotationError, match="no password of .* logs in"):
        fn.lambda_handler(_event("setSecret"), None, client=secrets)


def test_set_secret_refuses_a_pending_version_for_another_user(mysql: FakeMySQL):
    secrets = _rotating()
    secrets.versions["t2"] = (["AWSPENDING"], {**CURRENT, "username": "root", "password": "N3w-pw"})
    with pytest.raises(fn.RotationError, match="pending username .* differs"):
        fn.lambda_handler(_event("setSecret"), None, client=secrets)
    assert mysql.password == "old-pw"


def test_mariadb_and_mysql_57_get_the_password_function():
    assert fn.password_expression("10.11.6-MariaDB-0+deb12u1") == "PASSWORD(%s)"
    assert fn.password_expression("5.7.44-log") == "PASSWORD(%s)"
    assert fn.password_expression("8.4.3") == "%s"


def test_test_secret_fails_when_the_pending_password_is_refused(mysql: FakeMySQL):
    secrets = _rotating()
    secrets.versions["t2"] = (["AWSPENDING"], {**CURRENT, "password": "N3w-pw"})
    with pytest.raises(fn.RotationError, match="testSecret: the pending password"):
        fn.lambda_handler(_event("testSecret"), None, client=secrets)


@pytest.mark.parametrize("versions, enabled, message", [
    ({"t1": (["AWSCURRENT"], CURRENT)}, True, "t2 has no stage for rotation"),
    ({"t1": (["AWSCURRENT"], CURRENT), "t2": (["AWSPREVIOUS"], CURRENT)}, True, "not set as AWSPENDING"),
    ({"t1": (["AWSCURRENT"], CURRENT), "t2": (["AWSPENDING"], None)}, False, "not enabled for rotation"),
])
def test_the_handler_refuses_what_the_protocol_does_not_allow(versions, enabled, message):
    with pytest.raises(fn.RotationError, match=message):
        fn.lambda_handler(_event("createSecret"), None, client=FakeSecrets(dict(versions), enabled))


def test_an_unknown_step_or_an_incomplete_secret_is_named():
    with pytest.raises(fn.RotationError, match="invalid step 'rotate'"):
        fn.lambda_handler(_event("rotate"), None, client=_rotating())
    secrets = FakeSecrets({"t1": (["AWSCURRENT"], {"host": "db", "username": "admin"}),
                           "t2": (["AWSPENDING"], None)})
    with pytest.raises(fn.RotationError, match="lacks password"):
        fn.lambda_handler(_event("createSecret"), None, client=secrets)


def test_a_version_already_current_is_left_alone():
    secrets = FakeSecrets({"t2": (["AWSCURRENT", "AWSPENDING"], CURRENT)})
    for step in fn.STEPS:
        fn.lambda_handler(_event(step), None, client=secrets)
    assert secrets.calls == []


def test_the_package_is_the_same_bytes_every_time(tmp_path: Path):
    sums = [subprocess.run([sys.executable, str(HERE / "package.py"), str(tmp_path / f"{n}.zip")],
                           check=True, capture_output=True, text=True).stdout for n in (1, 2)]
    assert sums[0] == sums[1] and len(sums[0].strip()) == 44
    import zipfile

    names = zipfile.ZipFile(tmp_path / "1.zip").namelist()
    assert "lambda_function.py" in names and "pymysql/connections.py" in names


# ---- for real: the local cloud runs the packaged function against a TLS-only MariaDB ----

@pytest.fixture(scope="module")
def tls_mariadb(tmp_path_factory: pytest.TempPathFactory):
    """A private MariaDB that requires TLS, with a certificate for 127.0.0.1 from a test CA."""
    import os
    import shutil

    from autobuy.dev.mariadb import MariaDB
    from localcloud.twin.ca import CertificateAuthority

    if not (shutil.which("mariadbd") or Path("/usr/sbin/mariadbd").exists()):
        subprocess.run([str(ROOT / "scripts/system-deps.sh"), "mariadb"], check=True)
    ca_dir = tmp_path_factory.mktemp("rotation_ca")
    ca = CertificateAuthority.open(ca_dir)
    cert, key = ca.issue(["localhost"], ["127.0.0.1"]).write(ca_dir / "server", "server")
    base = Path(f"/tmp/autobuy-rotation-mariadb-{os.getpid()}")
    server = MariaDB(base, free_port(), server_args=(
        f"--ssl-ca={ca.cert_path}", f"--ssl-cert={cert}", f"--ssl-key={key}", "--require-secure-transport=ON"))
    server.start()
    try:
        yield server, ca.cert_path
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def _login(server: Any, ca: Path, password: str) -> None:
    pymysql.connect(host="127.0.0.1", port=server.port, user="rotated", password=password,
                    database="taskapp", connect_timeout=5,
                    ssl_ca=str(ca), ssl_verify_cert=True, ssl_verify_identity=True).close()


def _labels(client: Any, secret_id: str) -> dict[str, list[str]]:
    return client.describe_secret(SecretId=secret_id)["VersionIdsToStages"]


def _wait_rotated(client: Any, secret_id: str, token: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    # AWSCURRENT moved by the function, then AWSPENDING taken off: the rotation is over
    while _labels(client, secret_id).get(token) != ["AWSCURRENT"]:
        assert time.monotonic() < deadline, f"not rotated: {_labels(client, secret_id)}"
        time.sleep(0.3)


@pytest.mark.mysql
@pytest.mark.mariadb
def test_rotate_secret_runs_the_packaged_function_against_mariadb(localcloud, tls_mariadb, tmp_path):
    server, ca = tls_mariadb
    server.ensure_database("taskapp", "rotated", "first-Password-123")
    zip_path = tmp_path / "rotation.zip"
    subprocess.run([sys.executable, str(HERE / "package.py"), str(zip_path)], check=True, capture_output=True)
    iam, lam = boto3.client("iam"), boto3.client("lambda")
    secrets = boto3.client("secretsmanager")
    role = iam.create_role(RoleName=f"rotation-{free_port()}", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]
    function = lam.create_function(
        FunctionName=role["RoleName"], Runtime="python3.12", Role=role["Arn"],
        Handler="lambda_function.lambda_handler", Code={"ZipFile": zip_path.read_bytes()}, Timeout=30,
        Environment={"Variables": {"SSL_CERT_FILE": str(ca)}})
    name = f"test/rotation-{free_port()}"
    first = secrets.create_secret(Name=name, SecretString=json.dumps({
        "engine": "mysql", "host": "127.0.0.1", "port": server.port, "username": "rotated",
        "password": "first-Password-123", "dbname": "taskapp"}))["VersionId"]

    token = secrets.rotate_secret(SecretId=name, RotationLambdaARN=function["FunctionArn"],
                                  RotationRules={"AutomaticallyAfterDays": 30})["VersionId"]
    _wait_rotated(secrets, name, token)

    new = json.loads(secrets.get_secret_value(SecretId=name)["SecretString"])
    assert new["password"] != "first-Password-123" and len(new["password"]) == 32
    assert not set(new["password"]) & set("/@\"'\\:?#[]%&+=;`$ ")
    _login(server, ca, new["password"])
    with pytest.raises(pymysql.OperationalError) as refused:
        _login(server, ca, "first-Password-123")
    assert refused.value.args[0] == 1045
    assert _labels(secrets, name) == {first: ["AWSPREVIOUS"], token: ["AWSCURRENT"]}
    described = secrets.describe_secret(SecretId=name)
    assert described["RotationEnabled"] and described["RotationRules"]["AutomaticallyAfterDays"] == 30
    assert described["RotationLambdaARN"] == function["FunctionArn"] and "LastRotatedDate" in described

    # A second rotation: the rotated password becomes AWSPREVIOUS, the first one is gone.
    second = secrets.rotate_secret(SecretId=name)["VersionId"]
    _wait_rotated(secrets, name, second)
    labels = _labels(secrets, name)
    assert (labels[token], labels[second], labels.get(first, [])) == (["AWSPREVIOUS"], ["AWSCURRENT"], [])
    _login(server, ca, json.loads(secrets.get_secret_value(SecretId=name)["SecretString"])["password"])
