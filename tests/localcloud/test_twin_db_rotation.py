"""The database password rotates on the twin: the data tier's schedule on taskapp/database,
the rotation function packaged from the repository and run by the local cloud for
``RotateSecret`` (as Secrets Manager does when rotation is first configured), against the
twin's MariaDB for the DB instance (verified TLS, ``require_secure_transport`` on).

The oracles are the database (the new password logs in, the old one is refused with 1045)
and Secrets Manager's documented end state (the new version ``AWSCURRENT``, the one
before ``AWSPREVIOUS``, no ``AWSPENDING``); then the app's own engine keeps answering
across a second rotation, without a restart, and the data tier converges with
``changed=0`` on the rotated secret. Needs Docker and ``autobuy/mariadb:latest``.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pymysql
import pytest

from localcloud.twin import IMAGES as TWIN_IMAGES
from localcloud_helpers import start_server, stop_server
from test_twin import _json
from tests.playbooks.provision_helpers import run_playbook

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.twin, pytest.mark.playbook]

SECRET = "taskapp/database"
TIERS = ("--tags", "network,security,data")


class Cloud:
    def __init__(self, url: str, state: Path) -> None:
        self.url, self.state = url, state
        self.secrets = boto3.client("secretsmanager", endpoint_url=url, region_name="eu-central-1",
                                    aws_access_key_id="localcloud", aws_secret_access_key="localcloud")

    @property
    def twin(self) -> dict[str, Any]:
        return _json(self.url + "/localcloud/twin")

    def value(self, **version: str) -> dict[str, Any]:
        return json.loads(self.secrets.get_secret_value(SecretId=SECRET, **version)["SecretString"])

    def labels(self) -> dict[str, list[str]]:
        return {v: sorted(s) for v, s in
                self.secrets.describe_secret(SecretId=SECRET)["VersionIdsToStages"].items() if s}

    def wait_rotated(self, since: float, log: Path, timeout: float = 120) -> None:
        """Until a rotation that started after ``since`` (epoch seconds) has finished."""
        deadline = time.monotonic() + timeout
        while True:
            described = self.secrets.describe_secret(SecretId=SECRET)
            done = described.get("LastRotatedDate")
            pending = [v for v, s in described["VersionIdsToStages"].items() if "AWSPENDING" in s]
            if done is not None and done.timestamp() >= int(since) and not pending:
                return
            assert "rotation of taskapp/database failed" not in log.read_text(), log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"not rotated in {timeout} s: {described['VersionIdsToStages']}"
            time.sleep(0.5)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory, docker_images: Callable[..., None]) -> Iterator[Cloud]:
    docker_images(TWIN_IMAGES)
    state = tmp_path_factory.mktemp("db_rotation_state")
    url, proc = start_server(state / "localcloud.log", {
        "LOCALCLOUD_TWIN": "on", "LOCALCLOUD_INSTANCES": "records", "LOCALCLOUD_STATE_DIR": str(state),
        "LOCALCLOUD_RDS_CREATE_SECONDS": "1"})
    try:
        yield Cloud(url, state)
    finally:
        stop_server(proc)


def _login(address: str, ca: str, secret: dict[str, Any]) -> None:
    host, port = address.split(":")
    pymysql.connect(host=host, port=int(port), user=secret["username"], password=secret["password"],
                    database=secret["dbname"], connect_timeout=5, ssl_ca=ca, ssl_verify_cert=True,
                    ssl_verify_identity=True).close()


def test_the_data_tier_schedules_a_rotation_that_changes_the_twins_password(cloud: Cloud):
    log = cloud.state / "localcloud.log"
    started = time.time()
    run = run_playbook("site.yml", cloud.url, *TIERS)
    assert run.returncode == 0, run.output[-4000:]

    described = cloud.secrets.describe_secret(SecretId=SECRET)
    assert described["RotationEnabled"] and described["RotationRules"] == {"AutomaticallyAfterDays": 30}
    cloud.wait_rotated(since=started, log=log)
    labels = cloud.labels()
    (current,) = [v for v, s in labels.items() if s == ["AWSCURRENT"]]
    (previous,) = [v for v, s in labels.items() if s == ["AWSPREVIOUS"]]
    assert len(labels) == 2, labels  # the first value, without a host, keeps no label
    before = cloud.value(VersionId=previous)  # what the data tier wrote with the host
    new = cloud.value()
    assert new["password"] != before["password"] and len(new["password"]) == 32
    assert {k: v for k, v in new.items() if k != "password"} == {k: v for k, v in before.items() if k != "password"}
    assert before["host"] and cloud.value(VersionId=current) == new

    twin = cloud.twin
    database = twin["databases"]["taskapp-database"]
    assert database["endpoint"] == new["host"] and database["require_secure_transport"] is True
    _login(database["host_address"], twin["ca_cert"], new)
    with pytest.raises(pymysql.OperationalError) as refused:
        _login(database["host_address"], twin["ca_cert"], before)
    assert refused.value.args[0] == 1045

    # The next converge keeps the rotated password and the schedule: nothing to change.
    again = run_playbook("site.yml", cloud.url, *TIERS)
    assert again.returncode == 0 and again.recap["changed"] == 0, again.output[-4000:]
    assert cloud.value()["password"] == new["password"]


def test_the_apps_engine_keeps_answering_across_a_rotation(cloud: Cloud, monkeypatch: pytest.MonkeyPatch):
    """The app's engine (AUTOBUY_DB_SECRET_ID) on the twin's database, a new connection every
    0.1 s (as after a pool recycle) while the secret rotates again: no connection is
    refused and it never restarts. In single-user rotation's window (setSecret has changed
    the password, finishSecret has not yet made it AWSCURRENT) the current password is
    refused; the engine then connects with the staged AWSPENDING one."""
    from sqlalchemy import text

    from autobuy.db import make_engine
    from tests.app import helpers

    for key, value in {"AWS_ACCESS_KEY_ID": "localcloud", "AWS_SECRET_ACCESS_KEY": "localcloud",
                       "AWS_DEFAULT_REGION": "eu-central-1", "AWS_REGION": "eu-central-1"}.items():
        monkeypatch.setenv(key, value)
    secret, twin = cloud.value(), cloud.twin
    host, port = twin["databases"]["taskapp-database"]["host_address"].split(":")
    engine = make_engine(helpers.settings(
        db_host=host, db_port=int(port), db_user=secret["username"], db_password=secret["password"],
        db_name=secret["dbname"], db_tls_ca=twin["ca_cert"], db_secret_id=SECRET, aws_endpoint_url=cloud.url))
    outcomes: list[tuple[float, str]] = []
    stop = threading.Event()

    def query() -> None:
        while not stop.is_set():
            engine.pool.dispose()
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1")).scalar()
                outcomes.append((time.time(), "ok"))
            except Exception as error:  # noqa: BLE001 - every failure is counted
                outcomes.append((time.time(), type(error).__name__))
            time.sleep(0.1)

    worker = threading.Thread(target=query, daemon=True)
    worker.start()
    try:
        time.sleep(2)
        started = time.time()
        cloud.secrets.rotate_secret(SecretId=SECRET)
        cloud.wait_rotated(since=started, log=cloud.state / "localcloud.log")
        finished = time.time()
        time.sleep(8)
    finally:
        stop.set()
        worker.join(timeout=30)
        engine.dispose()
    assert cloud.value()["password"] != secret["password"]
    failed = [(t, e) for t, e in outcomes if e != "ok"]
    print(f"\n{len(outcomes)} connections, {len(failed)} refused, rotation {finished - started:.1f} s"
          + "".join(f"; {error} at {t - started:+.1f} s" for t, error in failed))
    assert failed == []
    assert [t for t, _ in outcomes if t > finished + 6]  # it went on after the rotation
