"""The twin's automated RDS backups follow the instance's backup window on the scaled
backup clock (a day lasts 86400 s x LOCALCLOUD_TIME_SCALE), and their retention.

Fast: a stand-in backend records the automated snapshots moto would take. The oracle is
RDS's rule: one automated snapshot each time the PreferredBackupWindow opens, and
snapshots older than BackupRetentionPeriod days are deleted.
"""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from localcloud.ext.fidelity import rds_backups
from localcloud.ext.fidelity.rds_backups import DAY, Point, Tracked


class Backend:
    def __init__(self) -> None:
        self.database_snapshots: dict[str, SimpleNamespace] = {}

    def create_auto_snapshot(self, instance: str, snapshot: str) -> None:
        self.database_snapshots[snapshot] = SimpleNamespace(
            snapshot_type="automated",
            database=SimpleNamespace(db_instance_identifier=instance))


@pytest.fixture
def scale(monkeypatch):
    monkeypatch.setenv("LOCALCLOUD_TIME_SCALE", "0.01")
    return 0.01


def test_one_automated_snapshot_each_time_the_window_opens(scale):
    backend = Backend()
    created = datetime(2026, 12, 1, tzinfo=timezone.utc).timestamp()
    tracked = Tracked(backend, "db", created)
    database = SimpleNamespace(preferred_backup_window="03:00-04:00")
    real_day = DAY * scale
    # Three backup-clock days, looked at every 3 real seconds (the twin's cycle).
    now = created
    while now < created + 3 * real_day:
        rds_backups._automated(tracked, database, now, retention=7)
        now += 3.0
    names = sorted(backend.database_snapshots)
    assert names == ["rds:db-2026-12-01-03-00", "rds:db-2026-12-02-03-00",
                     "rds:db-2026-12-03-03-00"]


def test_automated_snapshots_past_the_retention_period_are_deleted(scale):
    backend = Backend()
    created = datetime(2026, 12, 1, tzinfo=timezone.utc).timestamp()
    tracked = Tracked(backend, "db", created)
    database = SimpleNamespace(preferred_backup_window="03:00-04:00")
    real_day = DAY * scale
    backend.create_auto_snapshot("db", "rds:old")
    backend.create_auto_snapshot("db", "rds:recent")
    rds_backups._backups.snapshots["rds:old"] = Point(created, None)
    rds_backups._backups.snapshots["rds:recent"] = Point(created + 2 * real_day, None)
    try:
        rds_backups._automated(tracked, database, created + 2.5 * real_day, retention=2)
        assert "rds:old" not in backend.database_snapshots
        assert "rds:recent" in backend.database_snapshots
    finally:
        rds_backups._backups.snapshots.pop("rds:old", None)
        rds_backups._backups.snapshots.pop("rds:recent", None)
