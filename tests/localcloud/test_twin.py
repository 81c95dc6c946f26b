"""The twin (LOCALCLOUD_TWIN=on): ECR is a registry, RDS is a database, and a stopped
server leaves nothing behind.

Needs the Docker engine (started by ``scripts/system-deps.sh docker``) and the images
``autobuy/registry:latest`` and ``autobuy/mariadb:latest``, which the fixture builds
(``images/build.sh``, from ``autobuy/debian:bookworm``, itself built by
``scripts/base-image.sh bookworm`` when missing). Without Docker the tests skip, except
under CI (``CI`` set), where they fail.
"""
from __future__ import annotations

import base64
import io
import json
import ssl
import stat
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pymysql
import pytest

from localcloud.twin import IMAGES as TWIN_IMAGES
from localcloud_helpers import start_server, stop_server, until

pytestmark = [pytest.mark.slow, pytest.mark.docker]

IMAGES = TWIN_IMAGES
LABEL = "org.autobuy.localcloud"
KEEP_TEN = json.dumps({"rules": [{
    "rulePriority": 1, "description": "keep the newest 10",
    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10},
    "action": {"type": "expire"}}]})


def _docker(*args: str, stdin: bytes | None = None, timeout: float = 120,
            config: Path | None = None) -> subprocess.CompletedProcess:
    prefix = ["--config", str(config)] if config else []
    return subprocess.run(["docker", *prefix, *args], input=stdin, capture_output=True,
                          timeout=timeout, check=False)


def _json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


class Twin:
    def __init__(self, url: str, proc: subprocess.Popen, state: Path) -> None:
        self.url, self.proc, self.state = url, proc, state
        self.stopped = False

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name="eu-central-1")

    def report(self) -> dict[str, Any]:
        return _json(self.url + "/localcloud/twin")


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory, localcloud: str,
         docker_images: Callable[..., None]) -> Iterator[Twin]:
    docker_images(IMAGES)
    state = tmp_path_factory.mktemp("twin_state")
    url, proc = start_server(state / "localcloud.log", {
        "LOCALCLOUD_TWIN": "on", "LOCALCLOUD_STATE_DIR": str(state),
        "LOCALCLOUD_RDS_CREATE_SECONDS": "1"})
    running = Twin(url, proc, state)
    try:
        yield running
    finally:
        if not running.stopped:
            stop_server(proc)


@pytest.fixture
def docker_config(tmp_path: Path) -> Path:
    """A private docker client config, so logins never land in the user's."""
    config = tmp_path / "docker-config"
    config.mkdir()
    return config


def _password(twin: Twin) -> str:
    data = twin.client("ecr").get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert user == "AWS"
    return password


def test_docker_login_accepts_the_token_and_refuses_a_wrong_one(
        twin: Twin, docker_config: Path) -> None:
    report = twin.report()
    registry = report["registry"]
    assert registry.startswith("127.0.0.1:")
    assert "123456789012.dkr.ecr.eu-central-1.amazonaws.com" in report["registry_hosts"]
    password = _password(twin)
    data = twin.client("ecr").get_authorization_token()["authorizationData"][0]
    hours_left = (data["expiresAt"].timestamp() - time.time()) / 3600
    assert 11.9 < hours_left <= 12  # ECR's tokens last 12 hours
    assert data["proxyEndpoint"] == "https://123456789012.dkr.ecr.eu-central-1.amazonaws.com"
    assert _password(twin) == password  # handed out again while it is fresh (docs)

    good = _docker("login", "-u", "AWS", "--password-stdin", registry,
                   stdin=password.encode(), config=docker_config)
    wrong = _docker("login", "-u", "AWS", "--password-stdin", registry,
                    stdin=b"not-" + password.encode(), config=docker_config)

    assert good.returncode == 0, good.stderr
    resolved = _docker("run", "--rm", "--network", report["network"], "--entrypoint", "getent",
                       IMAGES["registry"], "hosts",
                       "123456789012.dkr.ecr.eu-central-1.amazonaws.com")
    assert resolved.returncode == 0 and resolved.stdout.split()[0].count(b".") == 3
    assert wrong.returncode != 0 and b"401" in wrong.stderr
    assert password.encode() not in (twin.state / "localcloud.log").read_bytes()


def _registry_tags(twin: Twin, repository: str, password: str) -> list[str]:
    """Tags the registry itself lists (its HTTP API, verified against the twin's CA)."""
    report = twin.report()
    context = ssl.create_default_context(cafile=report["ca_cert"])
    request = urllib.request.Request(f"https://{report['registry']}/v2/{repository}/tags/list")
    basic = base64.b64encode(f"AWS:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {basic}")
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return sorted(json.load(response).get("tags") or [])
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return []
        raise


def _tiny_image(name: str, content: bytes) -> None:
    """A one-file image with unique content (``docker import``: nothing is pulled)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("stamp")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    made = _docker("import", "-", name, stdin=buffer.getvalue())
    assert made.returncode == 0, made.stderr


def test_lifecycle_policy_keeps_the_newest_ten_of_twelve_pushed_images(
        twin: Twin, docker_config: Path) -> None:
    ecr = twin.client("ecr")
    ecr.create_repository(repositoryName="lifecycle")
    ecr.put_lifecycle_policy(repositoryName="lifecycle", lifecyclePolicyText=KEEP_TEN)
    registry, password = twin.report()["registry"], _password(twin)
    login = _docker("login", "-u", "AWS", "--password-stdin", registry,
                    stdin=password.encode(), config=docker_config)
    assert login.returncode == 0, login.stderr
    tags = [f"v{n:02d}" for n in range(1, 13)]
    names = [f"{registry}/lifecycle:{tag}" for tag in tags]
    try:
        for name in names:
            _tiny_image(name, f"{name} {time.time_ns()}".encode())
            pushed = _docker("push", name, config=docker_config, timeout=300)
            assert pushed.returncode == 0, pushed.stderr
            time.sleep(0.05)  # distinct push times even on a coarse clock

        newest_ten = tags[2:]
        until(lambda: _registry_tags(twin, "lifecycle", password) == newest_ten, 60,
               "the registry to hold the newest 10 tags")
        described = ecr.describe_images(repositoryName="lifecycle")["imageDetails"]
        listed = ecr.list_images(repositoryName="lifecycle")["imageIds"]
    finally:
        _docker("rmi", *names)

    assert sorted(t for d in described for t in d["imageTags"]) == newest_ten
    assert sorted(i["imageTag"] for i in listed) == newest_ten
    assert all(d["imageDigest"].startswith("sha256:") and d["imageSizeInBytes"] > 0
               for d in described)
    ecr.batch_delete_image(repositoryName="lifecycle", imageIds=[{"imageTag": "v12"}])
    assert _registry_tags(twin, "lifecycle", password) == newest_ten[:-1]


def test_a_db_instance_is_a_database_with_the_master_credentials(twin: Twin) -> None:
    rds = twin.client("rds")
    password = "Tw1n-pass'word\\x"  # a quote and a backslash must survive
    rds.create_db_instance(
        DBInstanceIdentifier="twin-db", Engine="mysql", DBInstanceClass="db.t4g.micro",
        MasterUsername="autobuy_admin", MasterUserPassword=password, DBName="autobuy",
        AllocatedStorage=20)
    status = until(lambda: (s := rds.describe_db_instances(DBInstanceIdentifier="twin-db")[
        "DBInstances"][0])["DBInstanceStatus"] != "creating" and s, 180, "available")
    assert status["DBInstanceStatus"] == "available"
    database = twin.report()["databases"]["twin-db"]
    assert database["endpoint"] == status["Endpoint"]["Address"]
    host, port = database["host_address"].split(":")

    with pymysql.connect(host=host, port=int(port), user="autobuy_admin", password=password,
                         database="autobuy") as conn, conn.cursor() as cursor:
        cursor.execute("SELECT DATABASE(), CURRENT_USER()")
        assert cursor.fetchone() == ("autobuy", "autobuy_admin@%")
        cursor.execute("CREATE TABLE kept (id INT PRIMARY KEY)")
    with pytest.raises(pymysql.err.OperationalError) as refused:
        pymysql.connect(host=host, port=int(port), user="autobuy_admin",
                        password=password + "x", connect_timeout=5)
    assert refused.value.args[0] == 1045  # access denied
    # From the twin network (where instances live) under the endpoint address RDS reports.
    inside = _docker("run", "--rm", "--network", twin.report()["network"], "-e",
                     f"MYSQL_PWD={password}", "--entrypoint", "mariadb", IMAGES["mariadb"],
                     "-h", status["Endpoint"]["Address"], "-P", str(status["Endpoint"]["Port"]),
                     "-u", "autobuy_admin", "-N", "-e", "SELECT DATABASE()", "autobuy")
    assert (inside.returncode, inside.stdout.strip()) == (0, b"autobuy"), inside.stderr
    inspect = _docker("inspect", "-f", "{{json .Config.Env}} {{json .Args}}",
                      database["container"])
    assert password.encode() not in inspect.stdout

    rds.delete_db_instance(DBInstanceIdentifier="twin-db",
                           FinalDBSnapshotIdentifier="twin-db-final")

    assert _docker("inspect", database["container"]).returncode != 0
    dump = Path(twin.report()["snapshots"]["twin-db-final"])
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    assert b"CREATE TABLE `kept`" in dump.read_bytes()
    assert password.encode() not in (twin.state / "localcloud.log").read_bytes()
    assert "twin-db" not in twin.report()["databases"]


def test_stopping_the_server_leaves_nothing_behind(twin: Twin) -> None:
    rds = twin.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="left-running", Engine="mysql", DBInstanceClass="db.t4g.micro",
        MasterUsername="admin", MasterUserPassword="Left-running-1", AllocatedStorage=20)
    until(lambda: rds.describe_db_instances(DBInstanceIdentifier="left-running")[
        "DBInstances"][0]["DBInstanceStatus"] == "available", 180, "available")
    report = twin.report()
    owner = report["network"].removeprefix("localcloud-")
    containers = _docker("ps", "-q", "--filter", f"label={LABEL}={owner}").stdout.split()
    # the registry, the database, the demo shop and the Stripe stand-in's name on the network
    assert len(containers) == 4
    volumes = [v for c in containers for v in _docker(
        "inspect", "-f", "{{range .Mounts}}{{if .Name}}{{.Name}} {{end}}{{end}}",
        c.decode()).stdout.split()]
    certs_d = Path("/etc/docker/certs.d") / report["registry"]

    stop_server(twin.proc)
    twin.stopped = True

    assert twin.proc.returncode is not None
    assert _docker("ps", "-aq", "--filter", f"label={LABEL}={owner}").stdout.split() == []
    assert _docker("network", "ls", "-q", "--filter", f"label={LABEL}={owner}").stdout == b""
    assert _docker("network", "inspect", report["network"]).returncode != 0
    for volume in volumes:
        assert _docker("volume", "inspect", volume.decode()).returncode != 0
    assert not certs_d.exists()
    assert not (twin.state / "twin" / owner).exists()  # the registry's key and htpasswd
    assert (twin.state / "twin" / "ca" / "ca.crt").exists()  # the CA stays for the next start
