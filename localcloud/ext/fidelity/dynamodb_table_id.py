"""DynamoDB: ``TableId`` in every table description.

moto leaves ``TableId`` out of ``CreateTable`` / ``DescribeTable`` /
``UpdateTable`` / ``DeleteTable`` answers; ``community.aws.dynamodb_table``
reads it and fails with ``KeyError: 'table_id'``. Each table gets one random
UUID for its lifetime, like on AWS.
"""
from __future__ import annotations

import uuid
from typing import Any

from moto.dynamodb.models.table import Table

from localcloud import patching

_ATTR = "_localcloud_table_id"


def table_id(table: Table) -> str:
    """The table's id, created on first use."""
    value = getattr(table, _ATTR, None)
    if value is None:
        value = str(uuid.uuid4())
        setattr(table, _ATTR, value)
    return value


def _with_table_id(original: Any) -> Any:
    def describe(self: Table, base_key: str = "TableDescription") -> dict[str, Any]:
        result = original(self, base_key)
        result[base_key]["TableId"] = table_id(self)
        return result

    return describe


def apply() -> None:
    patching.wrap(Table, "describe", _with_table_id)
