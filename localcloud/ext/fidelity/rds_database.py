"""RDS: each MySQL/MariaDB DB instance is a database server (``LOCALCLOUD_TWIN=on``).

With the twin on, ``CreateDBInstance`` (engine ``mysql`` or ``mariadb``) starts a MariaDB
container (:mod:`localcloud.twin.database`) with the master user, password and database
name of the call, answering at the endpoint address ``DescribeDBInstances`` reports on
the twin network and at a loopback port of the host (``GET /localcloud/twin``). The
instance is ``creating`` until both ``LOCALCLOUD_RDS_CREATE_SECONDS`` have passed
(``rds_slow_create``), the database lets the master user in and no restore
(``rds_backups``) is still loading a dump into it; ``failed`` when its
container cannot start. ``DeleteDBInstance`` removes the container, after dumping it to
``<state dir>/twin/snapshots/<FinalDBSnapshotIdentifier>.sql`` when a final snapshot is
asked for. MariaDB stands in for MySQL 8.4 (docs/localcloud.md says where they differ).

The server offers TLS with a certificate from the twin CA for the endpoint name, and
honours ``require_secure_transport`` of the instance's DB parameter group: read at
``CreateDBInstance``, and applied to the running servers of every instance using the group
at ``ModifyDBParameterGroup`` (a dynamic parameter on RDS as well).
"""
from __future__ import annotations

import functools
from typing import Any

from moto.rds.models import DBInstance, DBInstanceClustered, RDSBackend

from localcloud import settings, twin
from localcloud.timed import TimedStatus

ENGINES = ("mysql", "mariadb")
TRUE = ("1", "on", "true")


def require_secure_transport(database: DBInstance) -> bool:
    """``require_secure_transport`` of the DB instance's parameter group (default off)."""
    for group in database.db_parameter_groups():
        value = group.parameters.get("require_secure_transport", {}).get("ParameterValue")
        if value is not None:
            return str(value).strip().lower() in TRUE
    return False


def _backed(database: DBInstance) -> bool:
    return (database.engine in ENGINES and not isinstance(database, DBInstanceClustered)
            and twin.current() is not None)


def _available(database: DBInstance) -> bool:
    """The twin's database answers, and no restore (``rds_backups``) is still filling it."""
    running = twin.current()
    if running is None or not running.databases.has(database.db_instance_identifier):
        return True
    return running.databases.filled(database.db_instance_identifier)


def apply() -> None:
    if not settings.twin() or getattr(RDSBackend.create_db_instance, "_localcloud", False):
        return
    DBInstance.status = TimedStatus(  # type: ignore[assignment]
        "status", "creating", "available", condition=_available)
    create, delete = RDSBackend.create_db_instance, RDSBackend.delete_db_instance
    modify_group = RDSBackend.modify_db_parameter_group

    @functools.wraps(create)
    def create_db_instance(self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
        database = create(self, db_kwargs)
        running = twin.current()
        if running is not None and _backed(database):
            def failed(_: str, database: DBInstance = database) -> None:
                database.status = "failed"

            running.databases.create(
                database.db_instance_identifier, database.address, database.master_username,
                database._master_user_password, database.db_name, on_failure=failed,
                require_secure_transport=require_secure_transport(database))
        return database

    @functools.wraps(modify_group)
    def modify_db_parameter_group(self: RDSBackend, db_parameter_group_name: str,
                                  db_parameter_group_parameters: Any) -> Any:
        group = modify_group(self, db_parameter_group_name, db_parameter_group_parameters)
        running = twin.current()
        if running is not None:
            for database in list(self.databases.values()):
                if (_backed(database) and database.db_parameter_group_name
                        and database.db_parameter_group_name.lower() == group.name):
                    running.databases.set_require_secure_transport(
                        database.db_instance_identifier, require_secure_transport(database))
        return group

    @functools.wraps(delete)
    def delete_db_instance(self: RDSBackend, db_instance_identifier: str,
                           final_db_snapshot_identifier: str | None = None,
                           skip_final_snapshot: bool | None = False,
                           *args: Any, **kwargs: Any) -> DBInstance:
        database = delete(self, db_instance_identifier, final_db_snapshot_identifier,
                          skip_final_snapshot, *args, **kwargs)
        running = twin.current()
        if running is not None:
            snapshot = None if skip_final_snapshot else final_db_snapshot_identifier
            running.databases.delete(db_instance_identifier, snapshot)
        return database

    create_db_instance._localcloud = True  # type: ignore[attr-defined]
    RDSBackend.create_db_instance = create_db_instance  # type: ignore[method-assign]
    RDSBackend.delete_db_instance = delete_db_instance  # type: ignore[method-assign]
    RDSBackend.modify_db_parameter_group = modify_db_parameter_group  # type: ignore[method-assign]
