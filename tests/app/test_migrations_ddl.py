"""An applied migration never changes what it does to a database.

Each revision in ``app/autobuy/migrations/versions`` is rendered as MySQL DDL (Alembic's
offline mode, no database) and compared with the DDL recorded beside this test when the
revision was first applied: a refactoring of a revision's code (a helper for columns
several tables share) must emit the same statements, upgrade and downgrade.
"""
from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

import autobuy.migrations

VERSIONS = Path(autobuy.migrations.__file__).parent / "versions"
RECORDED = Path(__file__).parent / "migrations_ddl"


def _ddl(revision: Path) -> str:
    spec = importlib.util.spec_from_file_location(f"revision_{revision.stem}", revision)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = io.StringIO()
    context = MigrationContext.configure(dialect_name="mysql", opts={"as_sql": True, "output_buffer": out})
    with Operations.context(context):
        module.upgrade()
        module.downgrade()
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(p.stem for p in VERSIONS.glob("0*.py")))
def test_a_revision_emits_the_ddl_it_was_applied_with(name):
    recorded = RECORDED / f"{name}.mysql.sql"
    assert recorded.exists(), f"record the DDL of the new revision {name} in {recorded}"
    assert _ddl(VERSIONS / f"{name}.py") == recorded.read_text()
