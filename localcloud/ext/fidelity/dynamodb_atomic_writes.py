"""DynamoDB: conditional writes are atomic under concurrent requests.

moto evaluates a ``ConditionExpression`` and then applies the write with nothing in
between to stop another request thread (the server is threaded): two concurrent
conditional writes can both pass the check, so a ceiling such as the API's per-tier
item limit (``ADD itemIds`` while ``size(itemIds) < :limit``) or the engine's spend
cap can be exceeded, which DynamoDB never allows. Every mutating DynamoDB action runs
under one process-wide lock here, so check and write happen as one step, like on AWS.
Reads are not serialised (DynamoDB reads see a committed item either way).

The lock wraps the response handlers (``DynamoHandler``), not only the backend
methods, because ``BatchWriteItem`` lives entirely in the handler and ``PutItem`` /
``UpdateItem`` read the old item there for ``ReturnValues``.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.responses import DynamoHandler

__all__ = ["LOCK", "MUTATING", "apply"]

# DynamoHandler method names of the actions that change items.
MUTATING = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")

# One lock for all tables, accounts and regions: moto keeps them in one process and a
# TransactWriteItems may span tables. Re-entrant, in case a handler calls another.
LOCK = threading.RLock()


def _serialised(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(self: DynamoHandler, *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            return method(self, *args, **kwargs)

    locked._localcloud = True  # type: ignore[attr-defined]
    return locked


def apply() -> None:
    for name in MUTATING:
        original = getattr(DynamoHandler, name)
        if getattr(original, "_localcloud", False):
            continue
        setattr(DynamoHandler, name, _serialised(original))
