"""The restore drill: playbooks/restore.yml brings back users and items after data loss.

On the twin (LOCALCLOUD_TWIN=on: RDS is a MariaDB container whose snapshots are dumps,
DynamoDB's point-in-time restore gives the table as it was): the stack is provisioned by
site.yml, the API is built the way an instance builds it at boot (the database secret, the
table names parameter), users and items are created through it, a snapshot is taken, then
the items are deleted through the API and the users' rows lost in the database. The
restore playbook restores the database from the snapshot and the items table to the time
of the backup; an API built again from the secret and the parameter (what the refreshed
instances read at boot) serves the users and items again. The drill's duration (the RTO on
the twin) is printed.
"""
from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import falcon.testing
import pymysql
import pytest

from localcloud import launch
from localcloud.twin import IMAGES as TWIN_IMAGES
from provision_helpers import client, run_playbook, web_extra  # type: ignore[import-not-found]
from tests.app import helpers

pytestmark = [pytest.mark.slow, pytest.mark.playbook, pytest.mark.localcloud,
              pytest.mark.docker, pytest.mark.twin]

IMAGES = tuple(TWIN_IMAGES.values())
EMAILS = ("ana@example.com", "ben@example.com")


@pytest.fixture
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    missing = [image for image in IMAGES if subprocess.run(
        ["docker", "image", "inspect", image], capture_output=True, check=False).returncode != 0]
    if missing:
        pytest.skip(f"needs `make images` ({', '.join(missing)})")
    state = tmp_path_factory.mktemp("restore_twin")
    with launch.running(settings={"LOCALCLOUD_TWIN": "on", "LOCALCLOUD_STATE_DIR": str(state),
                                  "LOCALCLOUD_RDS_CREATE_SECONDS": "1",
                                  "LOCALCLOUD_TIME_SCALE": "0.01"},
                        log=state / "localcloud.log") as cloud:
        yield cloud.url


def _twin_databases(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/localcloud/twin", timeout=30) as response:
        return json.load(response)["databases"]


def _api(url: str) -> tuple[falcon.testing.TestClient, Any]:
    """The API as an instance starts it: the database secret and the table names parameter
    (the host is the twin's loopback address of the database the secret names)."""
    from autobuy.app import create_app, real_stores
    from autobuy.db import make_engine
    from autobuy.migrate import run

    secret = json.loads(client("secretsmanager", url).get_secret_value(
        SecretId="taskapp/database")["SecretString"])
    names = json.loads(client("ssm", url).get_parameter(
        Name="/taskapp/dynamodb-table-names")["Parameter"]["Value"])
    database = next(db for db in _twin_databases(url).values() if db["endpoint"] == secret["host"])
    host, port = database["host_address"].split(":")
    settings = helpers.settings(db_host=host, db_port=int(port), db_user=secret["username"],
                                db_password=secret["password"], db_name=secret["dbname"],
                                aws_endpoint_url=url, table_names=names)
    migrations = make_engine(settings, migrations=True)
    run(migrations, "upgrade", "head")
    migrations.dispose()
    stores = real_stores(settings)
    stores.gateway = helpers.FakeGateway()
    return falcon.testing.TestClient(create_app(settings, stores=stores)), settings


def _sign_in(api: falcon.testing.TestClient, email: str) -> dict[str, Any]:
    result = api.simulate_post("/v1/auth/dev", json={"email": email})
    assert result.status_code == 200, result.text
    return result.json


def _items(api: falcon.testing.TestClient, token: str) -> set[str]:
    listed = api.simulate_get("/v1/items", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200, listed.text
    return {item["url"] for item in listed.json["items"]}


def _latest_restorable(rds: Any) -> datetime:
    found = rds.describe_db_instances(DBInstanceIdentifier="taskapp-database")["DBInstances"][0]
    value = found["LatestRestorableTime"]
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("database", ["snapshot", "point_in_time"])
def test_the_drill_brings_back_users_and_items(twin: str, database: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # The API's AWS clients (an instance has its role's credentials).
    for name, value in (("AWS_ACCESS_KEY_ID", "localcloud"), ("AWS_SECRET_ACCESS_KEY", "localcloud"),
                        ("AWS_DEFAULT_REGION", "eu-central-1")):
        monkeypatch.setenv(name, value)
    converge = run_playbook("site.yml", twin, extra=web_extra(tmp_path))
    assert converge.returncode == 0, converge.output[-4000:]

    api, settings = _api(twin)
    users: dict[str, dict[str, Any]] = {}
    for n, email in enumerate(EMAILS):
        users[email] = _sign_in(api, email)
        auth = {"Authorization": f"Bearer {users[email]['access_token']}"}
        for i in range(2):
            made = api.simulate_post("/v1/items", headers=auth, json={
                "url": f"https://www.example-shop.de/p/{n}-{i}", "target_price": "9.99",
                "currency": "EUR"})
            assert made.status_code == 201, made.text
    before = {email: _items(api, tokens["access_token"]) for email, tokens in users.items()}
    assert all(len(urls) == 2 for urls in before.values())

    # The backup: a snapshot of the database, or (point in time) the database's logs past
    # the writes; and the moment for the tables.
    rds = client("rds", twin)
    if database == "snapshot":
        rds.create_db_snapshot(DBInstanceIdentifier="taskapp-database", DBSnapshotIdentifier="drill-backup")
        while rds.describe_db_snapshots(DBSnapshotIdentifier="drill-backup")["DBSnapshots"][0]["Status"] != "available":
            time.sleep(0.3)
    else:
        # A log point's time is when its dump was complete: the first one past the writes
        # may have started before them; the one after it (one dump at a time) did not.
        for _ in range(2):
            written = datetime.now(timezone.utc)
            while _latest_restorable(rds) <= written:
                time.sleep(0.5)
    # The next whole second (restore times are given to the second): after every write above.
    backup_time = (datetime.now(timezone.utc) + timedelta(seconds=1)).replace(microsecond=0)
    while datetime.now(timezone.utc) <= backup_time:
        time.sleep(0.05)

    # The loss: every item deleted through the API, the users' rows lost in the database.
    for tokens in users.values():
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        for item in api.simulate_get("/v1/items", headers=auth).json["items"]:
            assert api.simulate_delete(f"/v1/items/{item['id']}", headers=auth).status_code == 204
        assert _items(api, tokens["access_token"]) == set()
    with pymysql.connect(host=settings.db_host, port=settings.db_port, user=settings.db_user,
                         password=settings.db_password.get_secret_value(), database=settings.db_name,
                         autocommit=True) as connection, connection.cursor() as cursor:
        cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
        cursor.execute("DELETE FROM users")
    lost_user = _sign_in(api, EMAILS[0])  # signs up again as a new user
    assert lost_user["user"]["id"] != users[EMAILS[0]]["user"]["id"]

    if database == "point_in_time":  # RDS restores up to LatestRestorableTime
        while _latest_restorable(rds) < backup_time:
            time.sleep(0.5)
    extra = {"autobuy_restore_suffix": "drill", "autobuy_restore_database": database,
             "autobuy_restore_snapshot": "drill-backup" if database == "snapshot" else "",
             "autobuy_restore_time": backup_time.isoformat().replace("+00:00", "Z"),
             # The items and the users' item slots (autobuy_users.itemIds) go together.
             "autobuy_restore_tables": ["autobuy_items", "autobuy_users"]}
    restore = run_playbook("playbooks/restore.yml", twin, extra=extra)
    assert restore.returncode == 0, restore.output[-4000:]
    rto = restore.seconds

    # What a replaced instance reads at boot now names the restored database and table.
    restored_api, restored = _api(twin)
    assert restored.table_names == {"autobuy_items": "autobuy_items-restored-drill",
                                    "autobuy_users": "autobuy_users-restored-drill"}
    assert rds.describe_db_instances(DBInstanceIdentifier="taskapp-database-restored-drill")[
        "DBInstances"][0]["Endpoint"]["Address"] == json.loads(client("secretsmanager", twin).get_secret_value(
            SecretId="taskapp/database")["SecretString"])["host"]
    for email, tokens in users.items():
        # A token issued before the loss still works, and its items are back.
        assert _items(restored_api, tokens["access_token"]) == before[email]
        me = restored_api.simulate_get("/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert me.status_code == 200 and me.json["usage"]["items"] == 2, me.text
        # Signing in finds the same user again.
        assert _sign_in(restored_api, email)["user"]["id"] == tokens["user"]["id"]
    # The secret keeps its resource policy (only the instance role and the deployer).
    assert client("secretsmanager", twin).get_resource_policy(SecretId="taskapp/database").get("ResourcePolicy")
    group = client("autoscaling", twin).describe_instance_refreshes(
        AutoScalingGroupName="taskapp-backend-asg")["InstanceRefreshes"]
    assert group and group[0]["Status"] == "Successful"

    again = run_playbook("playbooks/restore.yml", twin, extra=extra)
    assert again.returncode == 0, again.output[-4000:]
    assert again.recap["changed"] == 0, again.output[-4000:]
    print(f"\nrestore drill on the twin: restore.yml took {rto:.1f} s "
          f"(database: {database}, two tables to a point in time, instance refresh); "
          f"idempotent re-run {again.seconds:.1f} s")


def test_bad_restore_input_is_refused_before_any_change(twin: str) -> None:
    run = run_playbook("playbooks/restore.yml", twin, "--tags", "restore", extra={
        "autobuy_restore_suffix": "Bad_Suffix", "autobuy_restore_database": "yesterday",
        "autobuy_restore_tables": ["autobuy_itmes"], "autobuy_restore_time": "noon"})
    assert run.returncode != 0
    for needle in ("autobuy_restore_database must be none, snapshot or point_in_time, not yesterday",
                   'autobuy_restore_suffix must be 1-20', "autobuy_restore_time must be latest or ISO 8601",
                   "autobuy_restore_tables names tables the definition lacks: autobuy_itmes"):
        assert needle in run.output, run.output[-3000:]
