"""Apply the MySQL migrations: ``python -m autobuy.migrate [upgrade|downgrade] [REVISION]``.

The deployment runs ``python -m autobuy.migrate upgrade head`` in the image with the
same environment as the API before starting the new containers: on an instance, a
one-shot container of the new image before the API and the worker start
(``roles/app/templates/run_containers.sh.j2``).

Several instances booting at the same time all run it: on MySQL/MariaDB the run holds the
named lock ``autobuy.migrate`` (``GET_LOCK``) from reading the current revision until the
migrations are committed, so exactly one of them applies the migrations; the others wait
for the lock, then find the schema at the target and change nothing. Both exit 0.
"""
from __future__ import annotations

import argparse
import sys
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

LOCK_NAME = "autobuy.migrate"
# How long a run waits for another instance's migrations (GET_LOCK's timeout).
LOCK_TIMEOUT_SECONDS = 900


class MigrationLockTimeout(RuntimeError):
    """Another run held the migration lock for longer than LOCK_TIMEOUT_SECONDS."""


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("autobuy") / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _lock(connection: Connection, timeout: int) -> None:
    got = connection.execute(text("SELECT GET_LOCK(:name, :timeout)"),
                             {"name": LOCK_NAME, "timeout": timeout}).scalar()
    if got != 1:
        raise MigrationLockTimeout(
            f"the migration lock {LOCK_NAME!r} is still held by another run after {timeout} s "
            "(GET_LOCK returned " + ("NULL, an error" if got is None else str(got)) + ")")


def run(engine: Engine, action: str, revision: str, *,
        lock_timeout: int = LOCK_TIMEOUT_SECONDS) -> tuple[str | None, str | None]:
    """Upgrade or downgrade to ``revision``; returns (revision before, revision after)."""
    cfg = alembic_config(engine)
    with engine.connect() as connection:
        locked = connection.dialect.name in ("mysql", "mariadb")
        if locked:
            _lock(connection, lock_timeout)
            connection.commit()
        try:
            with connection.begin():
                before = _revision(connection)
                cfg.attributes["connection"] = connection
                if action == "upgrade":
                    command.upgrade(cfg, revision)
                else:
                    command.downgrade(cfg, revision)
                after = _revision(connection)
        finally:
            if locked:
                connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": LOCK_NAME})
                connection.commit()
    return before, after


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m autobuy.migrate", description=__doc__)
    parser.add_argument("action", choices=["upgrade", "downgrade"], nargs="?", default="upgrade")
    parser.add_argument("revision", nargs="?", default="head")
    args = parser.parse_args(argv)
    from autobuy.config import load_settings
    from autobuy.db import make_engine

    engine = make_engine(load_settings(), migrations=True)
    try:
        before, after = run(engine, args.action, args.revision)
    except MigrationLockTimeout as exc:
        print(f"autobuy.migrate: {exc}", file=sys.stderr)
        raise SystemExit(4) from None
    finally:
        engine.dispose()
    if before == after:
        print(f"autobuy.migrate: schema already at {after or 'base'}, nothing applied")
    else:
        print(f"autobuy.migrate: applied {before or 'base'} -> {after or 'base'}")


if __name__ == "__main__":
    main()
