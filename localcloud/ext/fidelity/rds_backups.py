"""RDS: snapshots and automated backups hold the data; restores start a database from them.

moto's snapshots are records: restoring one (or restoring to a point in time) gives a new
DB instance record, and with the twin (``rds_database``) an *empty* database. With
``LOCALCLOUD_TWIN=on`` a MySQL/MariaDB DB instance's backups are real here:

* **CreateDBSnapshot** dumps the database (``mariadb-dump --single-transaction``) to
  ``<state dir>/twin/snapshots/<snapshot id>.sql`` (0600); the snapshot is ``creating``
  until the dump is written, then ``available``. A snapshot taken before the database
  answered (moto's automated snapshot at creation) is of the empty database.
* **Automated backups in the backup window**: the twin's clock runs 1 / ``LOCALCLOUD_TIME_SCALE``
  times as fast for backups (a day lasts 864 s at the default 0.01). Each time an instance's
  ``PreferredBackupWindow`` opens on that clock an automated snapshot ``rds:<id>-<date>`` is
  taken, and automated snapshots older than ``BackupRetentionPeriod`` days (same clock)
  are deleted, as RDS does.
* **Point-in-time recovery**: RDS uploads the transaction logs every 5 minutes, so an
  instance can be restored to any second up to ``LatestRestorableTime``, about 5 minutes
  ago. Here, every 300 s × ``LOCALCLOUD_TIME_SCALE`` (3 s at the default) a dump is taken
  (a new file only when the data changed): those are the restorable points;
  ``LatestRestorableTime`` is the newest. ``RestoreDBInstanceToPointInTime`` starts the new
  instance from the newest point (log dump or snapshot) at or before ``RestoreTime``
  (``UseLatestRestorableTime``: the newest point). A time before the instance existed or
  after ``LatestRestorableTime`` is refused (``InvalidParameterValue``), as on AWS.
  Difference: AWS replays the logs to the second; here a restore lands on the newest point
  before the time, up to one scaled log interval earlier. A point's time is when its dump
  was complete, so it never holds a write made after that time (it may lack the writes made
  while it was dumped: those are in the next point).
* **RestoreDBInstanceFromDBSnapshot** (manual, automated or a final snapshot written by
  ``rds_database`` at ``DeleteDBInstance``) starts the new instance (``rds_database``:
  the source's master user and password, as RDS does) and loads the dump into it; the
  instance is ``creating`` until the load is done. A snapshot still ``creating`` is refused
  (``InvalidDBSnapshotState``).

Instances without ``BackupRetentionPeriod`` (0) get no automated backups and no log dumps.
Automated backups and log dumps live in ``<state dir>/twin/<owner>/backups/`` and go with
the server; manual snapshot dumps stay, like final snapshots.
"""
from __future__ import annotations

import functools
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from moto.rds.exceptions import InvalidParameterValue, RDSClientError
from moto.rds.models import DBInstance, RDSBackend

from localcloud import settings, twin
from localcloud.twin.database import write_private

__all__ = ["LOG_SECONDS", "apply", "backups"]

#: RDS uploads an instance's transaction logs every 5 minutes (the RPO of a PITR restore).
LOG_SECONDS = 300.0
DAY = 86400.0
_WINDOW = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")


@dataclass
class Point:
    at: float  # when the dump was complete (wall clock): it holds no later write
    dump: Path | None  # None: the database was still empty


@dataclass
class Tracked:
    backend: RDSBackend
    identifier: str
    created: float
    points: list[Point] = field(default_factory=list)
    last_log: float = 0.0
    last_dump: bytes | None = None
    last_clock: float = 0.0  # the backup clock at the previous cycle


@dataclass
class Backups:
    """What the backups of one server hold (``backups()``)."""

    instances: dict[str, Tracked] = field(default_factory=dict)
    snapshots: dict[str, Point] = field(default_factory=dict)  # snapshot id -> its dump
    lock: threading.RLock = field(default_factory=threading.RLock)


_backups = Backups()
_deleting = threading.local()


def backups() -> Backups:
    return _backups


class InvalidDBSnapshotState(RDSClientError):
    def __init__(self, snapshot: str) -> None:
        super().__init__("InvalidDBSnapshotState",
                         f"Snapshot {snapshot} is not available yet (status creating)")


def _clock(tracked: Tracked, now: float) -> float:
    """The backup clock: the instance's creation time, then 1/scale times as fast."""
    scale = settings.time_scale() or 1.0
    return tracked.created + (now - tracked.created) / scale


def _snapshot_path(identifier: str, automated: bool) -> Path:
    running = twin.current()
    assert running is not None
    if automated:
        return running.workdir / "backups" / "automated" / f"{identifier.replace(':', '_')}.sql"
    return running.databases.snapshot_dir / f"{identifier}.sql"


def _dump_snapshot(snapshot: Any, instance: str, path: Path, started: float) -> None:
    running = twin.current()
    try:
        data = running.databases.dump(instance) if running is not None else None
        if data is None:
            raise RuntimeError(f"DB instance {instance} is not available")
        write_private(path, data)
        point = Point(started, path)
        with _backups.lock:
            _backups.snapshots[snapshot.db_snapshot_identifier] = point
            tracked = _backups.instances.get(instance)
            if tracked is not None:
                tracked.points.append(point)
                tracked.points.sort(key=lambda p: p.at)
        snapshot.status = "available"
    except Exception as exc:  # noqa: BLE001 - the snapshot fails, the server goes on
        snapshot.status = "failed"
        print(f"localcloud: twin: snapshot {snapshot.db_snapshot_identifier} of {instance}: {exc}",
              file=sys.stderr, flush=True)


def _on_snapshot(snapshot: Any, instance: str) -> None:
    """A snapshot of a twin-backed instance was just recorded by moto: take its dump."""
    running = twin.current()
    if running is None or not running.databases.has(instance):
        return
    snapshot_id = snapshot.db_snapshot_identifier
    automated = snapshot.snapshot_type == "automated"
    if getattr(_deleting, "instance", None) == instance:
        # DeleteDBInstance's final snapshot: rds_database writes this dump before the
        # container goes (synchronously, in this same call).
        with _backups.lock:
            _backups.snapshots[snapshot_id] = Point(time.time(),
                                                    _snapshot_path(snapshot_id, False))
        return
    if not running.databases.filled(instance):
        with _backups.lock:  # created, not answering yet: the empty database
            _backups.snapshots[snapshot_id] = Point(time.time(), None)
        return
    snapshot.status = "creating"
    threading.Thread(target=_dump_snapshot,
                     args=(snapshot, instance, _snapshot_path(snapshot_id, automated), time.time()),
                     name=f"localcloud-rds-snapshot-{snapshot_id}", daemon=True).start()


def _restore_time(params: dict[str, Any], tracked: Tracked) -> float:
    latest = tracked.points[-1].at if tracked.points else tracked.created
    value = params.get("RestoreTime")
    use_latest = params.get("UseLatestRestorableTime") in (True, "true", "True")
    if value is None or use_latest:
        return latest
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    when = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    if when < tracked.created or when > latest:
        def text(t: float) -> str:
            return datetime.fromtimestamp(t, tz=timezone.utc).isoformat(timespec="seconds")

        raise InvalidParameterValue(
            f"Restore time {text(when)} is outside the restorable period of DB instance "
            f"{tracked.identifier}: {text(tracked.created)} to the latest restorable time "
            f"{text(latest)}")
    return when


def _point_at(tracked: Tracked, when: float) -> Point:
    before = [point for point in tracked.points if point.at <= when]
    return before[-1] if before else Point(tracked.created, None)


def _cycle() -> None:
    """Every twin cycle: log dumps (PITR points), automated snapshots in the window,
    automated snapshots past their retention deleted."""
    running = twin.current()
    if running is None:
        return
    now = time.time()
    scale = settings.time_scale() or 1.0
    with _backups.lock:
        tracked_all = list(_backups.instances.values())
    for tracked in tracked_all:
        database = tracked.backend.databases.get(tracked.identifier)
        if database is None or database.status == "deleting":
            continue
        retention = int(getattr(database, "backup_retention_period", 0) or 0)
        if retention <= 0 or not running.databases.filled(tracked.identifier):
            continue
        if now - tracked.last_log >= LOG_SECONDS * scale:
            _log_dump(tracked, now)
        _automated(tracked, database, now, retention)


def _log_dump(tracked: Tracked, now: float) -> None:
    running = twin.current()
    data = running.databases.dump(tracked.identifier) if running is not None else None
    tracked.last_log = now
    if data is None:
        return
    # The point's time is when the dump was complete, not when it was asked for: the dump
    # holds the data of a moment between the two, so a restore to the point's time (or
    # later) never brings back a write made after the time asked for.
    done = time.time()
    previous = tracked.points[-1].dump if tracked.points else None
    if data == tracked.last_dump and previous is not None:
        path = previous
    else:
        path = (running.workdir / "backups" / "log" / tracked.identifier
                / f"{int(now * 1000)}.sql")
        write_private(path, data)
        tracked.last_dump = data
    with _backups.lock:
        tracked.points.append(Point(done, path))


def _automated(tracked: Tracked, database: DBInstance, now: float, retention: int) -> None:
    clock = _clock(tracked, now)
    previous, tracked.last_clock = tracked.last_clock or clock, clock
    match = _WINDOW.match(str(getattr(database, "preferred_backup_window", "") or ""))
    if match:
        start = int(match[1]) * 3600 + int(match[2]) * 60
        day_start = clock - clock % DAY
        opening = day_start + start
        if previous < opening <= clock:
            stamp = datetime.fromtimestamp(opening, tz=timezone.utc).strftime("%Y-%m-%d-%H-%M")
            try:
                tracked.backend.create_auto_snapshot(tracked.identifier,
                                                     f"rds:{tracked.identifier}-{stamp}")
            except RDSClientError as exc:
                print(f"localcloud: twin: automated snapshot of {tracked.identifier}: {exc}",
                      file=sys.stderr, flush=True)
    # Retention, on the backup clock: automated snapshots older than the period go.
    oldest = clock - retention * DAY
    for snapshot_id, snapshot in list(tracked.backend.database_snapshots.items()):
        if (snapshot.snapshot_type == "automated"
                and snapshot.database.db_instance_identifier == tracked.identifier):
            with _backups.lock:
                point = _backups.snapshots.get(snapshot_id)
            if point is not None and _clock(tracked, point.at) < oldest:
                tracked.backend.database_snapshots.pop(snapshot_id, None)
                with _backups.lock:
                    _backups.snapshots.pop(snapshot_id, None)


def apply() -> None:
    if not settings.twin() or getattr(RDSBackend.create_db_snapshot, "_localcloud_backups", False):
        return
    create_instance = RDSBackend.create_db_instance
    create_snapshot = RDSBackend.create_db_snapshot
    delete_instance = RDSBackend.delete_db_instance
    from_snapshot = RDSBackend.restore_db_instance_from_db_snapshot
    to_point = RDSBackend.restore_db_instance_to_point_in_time
    latest_restorable = DBInstance.latest_restorable_time

    @functools.wraps(create_instance)
    def create_db_instance(self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
        identifier = db_kwargs.get("db_instance_identifier")
        with _backups.lock:
            # Before moto's automated snapshot at creation, which is of the empty database.
            if identifier:
                _backups.instances[identifier] = Tracked(self, identifier, time.time())
        try:
            return create_instance(self, db_kwargs)
        except Exception:
            with _backups.lock:
                _backups.instances.pop(identifier, None)
            raise

    @functools.wraps(create_snapshot)
    def create_db_snapshot(self: RDSBackend, db_instance_identifier: str,
                           db_snapshot_identifier: str, *args: Any, **kwargs: Any) -> Any:
        snapshot = create_snapshot(self, db_instance_identifier, db_snapshot_identifier,
                                   *args, **kwargs)
        _on_snapshot(snapshot, db_instance_identifier)
        return snapshot

    @functools.wraps(delete_instance)
    def delete_db_instance(self: RDSBackend, db_instance_identifier: str,
                           *args: Any, **kwargs: Any) -> DBInstance:
        _deleting.instance = db_instance_identifier
        try:
            database = delete_instance(self, db_instance_identifier, *args, **kwargs)
        finally:
            _deleting.instance = None
        with _backups.lock:
            _backups.instances.pop(db_instance_identifier, None)
        return database

    def _load(database: DBInstance, point: Point) -> None:
        running = twin.current()
        if running is None or not running.databases.has(database.db_instance_identifier):
            return

        def failed(_: str, database: DBInstance = database) -> None:
            database.status = "failed"

        running.databases.load(database.db_instance_identifier, point.dump, failed)

    @functools.wraps(from_snapshot)
    def restore_db_instance_from_db_snapshot(self: RDSBackend, from_snapshot_id: str,
                                             overrides: dict[str, Any]) -> DBInstance:
        name = from_snapshot_id
        if name.startswith("arn:"):
            name = self.extract_snapshot_name_from_arn(name)
        snapshot = self.database_snapshots.get(name)
        if snapshot is not None and snapshot.status == "creating":
            raise InvalidDBSnapshotState(name)
        running = twin.current()
        with _backups.lock:
            point = _backups.snapshots.get(name)
        if point is None and running is not None and name in running.databases.snapshots:
            point = Point(time.time(), Path(running.databases.snapshots[name]))
        database = from_snapshot(self, from_snapshot_id, overrides)
        if point is not None:
            _load(database, point)
        return database

    @functools.wraps(to_point)
    def restore_db_instance_to_point_in_time(self: RDSBackend, source_db_identifier: str,
                                             target_db_identifier: str,
                                             overrides: dict[str, Any]) -> DBInstance:
        with _backups.lock:
            tracked = _backups.instances.get(source_db_identifier)
        point = None
        if tracked is not None and twin.current() is not None:
            point = _point_at(tracked, _restore_time(overrides, tracked))
        database = to_point(self, source_db_identifier, target_db_identifier, overrides)
        if point is not None:
            _load(database, point)
        return database

    def latest_restorable_time(self: DBInstance) -> datetime:
        with _backups.lock:
            tracked = _backups.instances.get(self.db_instance_identifier)
            if tracked is None or tracked.backend.databases.get(tracked.identifier) is not self:
                return latest_restorable.fget(self)  # type: ignore[attr-defined]
            at = tracked.points[-1].at if tracked.points else tracked.created
        return datetime.fromtimestamp(at, tz=timezone.utc).replace(tzinfo=None)

    for function in (create_db_instance, create_db_snapshot, delete_db_instance,
                     restore_db_instance_from_db_snapshot, restore_db_instance_to_point_in_time):
        function._localcloud_backups = True  # type: ignore[attr-defined]
        setattr(RDSBackend, function.__name__, function)
    DBInstance.latest_restorable_time = property(latest_restorable_time)  # type: ignore[assignment]
    twin.on_start(lambda running: running.every_cycle(_cycle))

