"""The twin's RDS backups hold the data: snapshots, point-in-time restores and final
snapshots start new databases with the rows they had (LOCALCLOUD_TWIN=on).

The oracle is the rows the test wrote before and after each backup. Needs Docker and
``autobuy/mariadb:latest`` (built by the fixture); skips without Docker, fails under CI.
"""
from __future__ import annotations

import stat
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pymysql
import pytest
from botocore.exceptions import ClientError

from localcloud.twin import IMAGES as TWIN_IMAGES
from localcloud_helpers import start_server, stop_server
from test_twin import _json

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.twin]

USER, PASSWORD, DB = "admin", "backups-drill-Pw-1234", "autobuy"
SCALE = 0.01  # log dumps every 300 s x 0.01 = 3 s


class Cloud:
    def __init__(self, url: str, state: Path) -> None:
        self.url, self.state = url, state
        self.rds = boto3.client("rds", endpoint_url=url, region_name="eu-central-1",
                                aws_access_key_id="localcloud", aws_secret_access_key="localcloud")

    def wait_available(self, identifier: str, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
            if found["DBInstanceStatus"] == "available":
                return found
            assert found["DBInstanceStatus"] in ("creating",), found["DBInstanceStatus"]
            assert time.monotonic() < deadline, f"{identifier} still {found['DBInstanceStatus']}"
            time.sleep(0.5)

    def wait_snapshot(self, snapshot: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot)["DBSnapshots"][0]
            if found["Status"] == "available":
                return found
            assert found["Status"] == "creating", found["Status"]
            assert time.monotonic() < deadline, f"{snapshot} still creating"
            time.sleep(0.3)

    def latest_restorable(self, identifier: str) -> float:
        found = self.rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
        value = found["LatestRestorableTime"]
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()

    def wait_restorable_after(self, identifier: str, moment: float, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.latest_restorable(identifier) <= moment:
            assert time.monotonic() < deadline, "LatestRestorableTime did not move on"
            time.sleep(0.5)

    def wait_point_holding(self, identifier: str, moment: float) -> None:
        """Wait for a log point that holds every write made before ``moment``: a point's
        time is when its dump was complete, so the first one past ``moment`` may have
        started before it; the one after it (dumps are taken one at a time) did not."""
        self.wait_restorable_after(identifier, moment)
        self.wait_restorable_after(identifier, time.time())

    def rows(self, identifier: str) -> set[str]:
        host, port = _json(self.url + "/localcloud/twin")["databases"][identifier]["host_address"].split(":")
        with pymysql.connect(host=host, port=int(port), user=USER, password=PASSWORD,
                             database=DB, connect_timeout=5) as connection, \
                connection.cursor() as cursor:
            cursor.execute("SELECT name FROM users")
            return {row[0] for row in cursor.fetchall()}

    def execute(self, identifier: str, *statements: str) -> None:
        host, port = _json(self.url + "/localcloud/twin")["databases"][identifier]["host_address"].split(":")
        with pymysql.connect(host=host, port=int(port), user=USER, password=PASSWORD,
                             database=DB, connect_timeout=5, autocommit=True) as connection, \
                connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory, docker_images: Callable[..., None]) -> Iterator[Cloud]:
    docker_images(TWIN_IMAGES)
    state = tmp_path_factory.mktemp("backups_state")
    url, proc = start_server(state / "localcloud.log", {
        "LOCALCLOUD_TWIN": "on", "LOCALCLOUD_STATE_DIR": str(state),
        "LOCALCLOUD_RDS_CREATE_SECONDS": "1", "LOCALCLOUD_TIME_SCALE": str(SCALE)})
    try:
        yield Cloud(url, state)
    finally:
        stop_server(proc)


def _create(cloud: Cloud, identifier: str) -> None:
    cloud.rds.create_db_instance(
        DBInstanceIdentifier=identifier, Engine="mysql", DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20, MasterUsername=USER, MasterUserPassword=PASSWORD, DBName=DB,
        BackupRetentionPeriod=7, PreferredBackupWindow="03:00-04:00")
    cloud.wait_available(identifier)


def test_snapshots_point_in_time_and_final_snapshots_restore_the_rows(cloud: Cloud):
    rds = cloud.rds
    _create(cloud, "drill-src")
    cloud.execute("drill-src", "CREATE TABLE users (name VARCHAR(32) PRIMARY KEY)",
                  "INSERT INTO users VALUES ('alice'), ('bob')")
    written = time.time()

    # A manual snapshot is a dump, private to the owner.
    rds.create_db_snapshot(DBInstanceIdentifier="drill-src", DBSnapshotIdentifier="drill-snap")
    cloud.wait_snapshot("drill-snap")
    dump = cloud.state / "twin" / "snapshots" / "drill-snap.sql"
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    # The log dumps move LatestRestorableTime past the first writes.
    cloud.wait_point_holding("drill-src", written)
    before_damage = time.time()
    while time.time() <= before_damage:
        time.sleep(0.001)

    cloud.execute("drill-src", "DELETE FROM users WHERE name = 'alice'",
                  "INSERT INTO users VALUES ('carol')")
    damaged = time.time()
    assert cloud.rows("drill-src") == {"bob", "carol"}

    # From the snapshot: the rows at the snapshot.
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="drill-from-snap",
                                             DBSnapshotIdentifier="drill-snap")
    cloud.wait_available("drill-from-snap")
    assert cloud.rows("drill-from-snap") == {"alice", "bob"}

    # To a point in time before the damage, once the logs reach it: the rows then.
    cloud.wait_restorable_after("drill-src", before_damage)
    rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier="drill-src", TargetDBInstanceIdentifier="drill-pitr",
        RestoreTime=datetime.fromtimestamp(before_damage, tz=timezone.utc))
    cloud.wait_available("drill-pitr")
    assert cloud.rows("drill-pitr") == {"alice", "bob"}

    # A time after LatestRestorableTime is refused, as on AWS.
    with pytest.raises(ClientError) as caught:
        rds.restore_db_instance_to_point_in_time(
            SourceDBInstanceIdentifier="drill-src", TargetDBInstanceIdentifier="drill-future",
            RestoreTime=datetime.fromtimestamp(time.time() + 3600, tz=timezone.utc))
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"

    # The latest restorable time, once it is past the damage: today's rows.
    cloud.wait_point_holding("drill-src", damaged)
    rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier="drill-src", TargetDBInstanceIdentifier="drill-latest",
        UseLatestRestorableTime=True)
    cloud.wait_available("drill-latest")
    assert cloud.rows("drill-latest") == {"bob", "carol"}

    # The final snapshot of a deleted instance restores the same way.
    rds.delete_db_instance(DBInstanceIdentifier="drill-src", SkipFinalSnapshot=False,
                           FinalDBSnapshotIdentifier="drill-src-final")
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="drill-from-final",
                                             DBSnapshotIdentifier="drill-src-final")
    cloud.wait_available("drill-from-final")
    assert cloud.rows("drill-from-final") == {"bob", "carol"}


def test_a_snapshot_of_a_database_that_never_answered_restores_empty(cloud: Cloud):
    # moto's automated snapshot at CreateDBInstance is taken before the server answers.
    _create(cloud, "drill-empty")
    automated = [s["DBSnapshotIdentifier"] for s in cloud.rds.describe_db_snapshots(
        DBInstanceIdentifier="drill-empty", SnapshotType="automated")["DBSnapshots"]]
    assert automated
    cloud.rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="drill-empty-copy",
                                                   DBSnapshotIdentifier=automated[0])
    cloud.wait_available("drill-empty-copy")
    cloud.execute("drill-empty-copy", "CREATE TABLE users (name VARCHAR(32) PRIMARY KEY)")
    assert cloud.rows("drill-empty-copy") == set()
