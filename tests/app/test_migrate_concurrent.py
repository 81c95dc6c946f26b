"""Migrations run exactly once when several instances boot at the same time.

Two ``python -m autobuy.migrate`` processes (as two instances' one-shot containers run it)
start against the same empty MariaDB database while the test holds the migration lock, so
both are provably waiting at the same time; once it is released, exactly one applies the
migrations and the other finds the schema at head. Both exit 0.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from autobuy.migrate import LOCK_NAME, MigrationLockTimeout, run
from sqlalchemy import inspect, text

pytestmark = [pytest.mark.mysql, pytest.mark.slow]


def _env(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOBUY_")}
    env.update({
        "AUTOBUY_ENV": settings.env,
        "AUTOBUY_DB_HOST": settings.db_host,
        "AUTOBUY_DB_PORT": str(settings.db_port),
        "AUTOBUY_DB_USER": settings.db_user,
        "AUTOBUY_DB_PASSWORD": settings.db_password.get_secret_value(),
        "AUTOBUY_DB_NAME": settings.db_name,
        "AUTOBUY_JWT_SIGNING_KEY": settings.jwt_signing_key.get_secret_value(),
        "AUTOBUY_GOOGLE_CLIENT_ID": settings.google_client_id,
        "AUTOBUY_STRIPE_SECRET_KEY": settings.stripe_secret_key.get_secret_value(),
        "AUTOBUY_STRIPE_WEBHOOK_SECRET": settings.stripe_webhook_secret.get_secret_value(),
        "AUTOBUY_CORS_ORIGIN": settings.cors_origin,
    })
    return env


def _waiting_for_lock(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
            "WHERE STATE = 'User lock' AND INFO LIKE '%GET_LOCK%'")).scalar()


def test_concurrent_migrations_apply_once(mysql_settings, tmp_path):
    from autobuy.db import make_engine

    engine = make_engine(mysql_settings)
    holder = engine.connect()
    assert holder.execute(text("SELECT GET_LOCK(:n, 5)"), {"n": LOCK_NAME}).scalar() == 1
    procs = [subprocess.Popen([sys.executable, "-m", "autobuy.migrate", "upgrade", "head"],
                              env=_env(mysql_settings), cwd=tmp_path, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while _waiting_for_lock(engine) < 2:
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            assert time.monotonic() < deadline, "the two runs never both waited for the lock"
            time.sleep(0.1)
        # Both runs wait and nothing is migrated while the lock is held.
        assert set(inspect(engine).get_table_names()) == set()
    finally:
        holder.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": LOCK_NAME})
        holder.close()
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    lines = sorted(out.strip() for out, _ in outputs)
    assert lines[0].startswith("autobuy.migrate: applied base -> "), outputs
    assert lines[1].startswith("autobuy.migrate: schema already at "), outputs
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


def test_lock_timeout_is_a_clear_error(mysql_settings):
    from autobuy.db import make_engine

    engine = make_engine(mysql_settings, migrations=True)  # as `python -m autobuy.migrate`
    with engine.connect() as holder:
        holder.execute(text("SELECT GET_LOCK(:n, 5)"), {"n": LOCK_NAME})
        with pytest.raises(MigrationLockTimeout, match="still held by another run after 1 s"):
            run(engine, "upgrade", "head", lock_timeout=1)
        holder.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": LOCK_NAME})
    assert "users" not in inspect(engine).get_table_names()
    engine.dispose()
