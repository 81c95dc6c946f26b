"""AUTOBUY_TABLE_NAMES puts a table other than prefix + name to use (a restored table).

playbooks/restore.yml restores a DynamoDB table into a new one and hands its name to the
app through this setting; the API and the engine then read and write that table.
"""
from __future__ import annotations

import time
from decimal import Decimal

import pytest
from autobuy.config import Settings
from autobuy.contract import ITEMS, USERS
from autobuy.engine.dynamo_store import DynamoEngineStore
from autobuy.models import Item
from autobuy.repositories.dynamo import DynamoItemRepository
from autobuy.schema import create_table_params, load_tables
from pydantic import ValidationError

from tests.app.test_config import PROD


def test_the_setting_is_read_from_json_and_names_only_defined_tables(monkeypatch):
    monkeypatch.setenv("AUTOBUY_TABLE_NAMES", '{"autobuy_items": "autobuy_items-restored-1"}')
    assert Settings(_env_file=None, **PROD).table_names == {"autobuy_items": "autobuy_items-restored-1"}
    monkeypatch.setenv("AUTOBUY_TABLE_NAMES", '{"autobuy_itmes": "x"}')
    with pytest.raises(ValidationError, match="AUTOBUY_TABLE_NAMES .*autobuy_itmes"):
        Settings(_env_file=None, **PROD)


def test_a_named_table_replaces_prefix_and_name_for_that_table_only():
    names = {"autobuy_items": "autobuy_items-restored-1"}
    assert ITEMS.named("p_", names) == "autobuy_items-restored-1"
    assert USERS.named("p_", names) == "p_autobuy_users"
    assert ITEMS.named("p_") == "p_autobuy_items"


def test_the_repositories_use_the_named_table(dynamo_tables):
    db, prefix = dynamo_tables
    restored = prefix + "autobuy_items-restored"
    spec = next(t for t in load_tables() if t["name"] == "autobuy_items")
    db.create_table(**{**create_table_params(spec, prefix), "TableName": restored})
    names = {"autobuy_items": restored}
    repo = DynamoItemRepository(db, prefix, names)
    now = int(time.time())
    item = Item(item_id="i1", user_id="u1", url="https://a.example/x", title=None,
                target_price=Decimal("1.00"), currency="EUR", auto_buy=False, status="active",
                created_at=now, updated_at=now)
    repo.create(item, item_limit=5)
    assert db.scan(TableName=restored)["Count"] == 1
    assert db.scan(TableName=prefix + "autobuy_items")["Count"] == 0
    assert repo.get("u1", "i1").url == "https://a.example/x"
    assert DynamoEngineStore(db, prefix, names)._items == restored
