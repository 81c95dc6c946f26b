"""DynamoDB: a point-in-time restore gives the table as it was at the restore time.

moto's ``RestoreTableToPointInTime`` copies the source table's items as they are *now*,
whatever ``RestoreDateTime`` says, and restores a table whose point-in-time recovery is
off. So a drill that deletes data and restores to a moment before the deletion would get
the deleted state back. Here, while a table's point-in-time recovery is ``ENABLED``, every
successful write (PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems)
records the item's image from before the write, with the time; a restore copies the
table as moto does and then puts back, newest first, the before-images of the writes made
after the restore time, so the new table holds the items as they were then (as DynamoDB
restores from its continuous backups). As on AWS:

* the source table must have point-in-time recovery on
  (``PointInTimeRecoveryUnavailableException``);
* the restore time must lie between ``EarliestRestorableDateTime`` (when recovery was
  turned on) and now (``InvalidRestoreTimeException``); ``UseLatestRestorableTime``
  restores to now, and no restore time means the latest too;
* turning point-in-time recovery off forgets its history.

Differences: AWS's ``LatestRestorableDateTime`` is about five minutes behind; here it is
now. Writes through PartiQL (``ExecuteStatement``) are not recorded. The record lives in
the server's memory, for as long as the table does (no 35-day window).

The before-images are taken inside the handlers that ``dynamodb_atomic_writes`` (listed
after this patch, so its lock is the outer one) serialises, so image and write are one step;
the restore takes the same lock (its ``LOCK``) while it copies and puts back.
"""
from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from moto.dynamodb.exceptions import DynamodbException, ERROR_TYPE_PREFIX
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from localcloud.ext.fidelity.dynamodb_atomic_writes import LOCK

__all__ = ["WRITES", "apply", "history_of"]

# DynamoHandler method -> the (table name, key or item) pairs its request writes.
WRITES = ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items")


@dataclass(frozen=True)
class Change:
    at: float
    hash_key: DynamoType
    range_key: DynamoType | None
    before: Item | None  # None: the item did not exist before the write


class RestoreError(DynamodbException):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(ERROR_TYPE_PREFIX + kind, message=message)


def _pitr(table: Table) -> dict[str, Any]:
    return table.continuous_backups.get("PointInTimeRecoveryDescription", {})


def _enabled(table: Table) -> bool:
    return _pitr(table).get("PointInTimeRecoveryStatus") == "ENABLED"


def history_of(table: Table) -> list[Change]:
    """The recorded writes of a table, oldest first (created on first use)."""
    history = table.__dict__.get("_localcloud_pitr")
    if history is None:
        history = table.__dict__["_localcloud_pitr"] = []
    return history


def _targets(name: str, body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table name, attributes holding the key) of every item the request writes."""
    if name in ("put_item",):
        yield body["TableName"], body["Item"]
    elif name in ("update_item", "delete_item"):
        yield body["TableName"], body["Key"]
    elif name == "batch_write_item":
        for table_name, requests in body.get("RequestItems", {}).items():
            for request in requests:
                if "PutRequest" in request:
                    yield table_name, request["PutRequest"]["Item"]
                elif "DeleteRequest" in request:
                    yield table_name, request["DeleteRequest"]["Key"]
    elif name == "transact_write_items":
        for entry in body.get("TransactItems", []):
            for kind, field in (("Put", "Item"), ("Update", "Key"), ("Delete", "Key")):
                if kind in entry:
                    yield entry[kind]["TableName"], entry[kind][field]


def _key(table: Table, attributes: dict[str, Any]) -> tuple[DynamoType, DynamoType | None] | None:
    if table.hash_key_attr not in attributes:
        return None
    hash_key = DynamoType(attributes[table.hash_key_attr])
    range_key = None
    if table.range_key_attr:
        if table.range_key_attr not in attributes:
            return None
        range_key = DynamoType(attributes[table.range_key_attr])
    return hash_key, range_key


def _recorded(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def recording(self: DynamoHandler, *args: Any, **kwargs: Any) -> Any:
        before: list[tuple[Table, tuple[DynamoType, DynamoType | None], Item | None]] = []
        try:
            body = self.body if isinstance(self.body, dict) else {}
            for table_name, attributes in _targets(name, body):
                table = self.dynamodb_backend.tables.get(table_name)
                if table is None or not _enabled(table):
                    continue
                key = _key(table, attributes)
                if key is not None:
                    before.append((table, key, copy.deepcopy(table.get_item(*key))))
        except (KeyError, TypeError, AttributeError):
            before = []  # a malformed request: moto's handler answers it
        result = method(self, *args, **kwargs)
        now = time.time()
        for table, (hash_key, range_key), image in before:
            history_of(table).append(Change(now, hash_key, range_key, image))
        return result

    recording._localcloud_pitr = True  # type: ignore[attr-defined]
    return recording


def _put_back(table: Table, change: Change) -> None:
    if table.range_key_attr:
        bucket = table.items[change.hash_key]
        if change.before is None:
            bucket.pop(change.range_key, None)
            if not bucket:
                table.items.pop(change.hash_key, None)
        else:
            bucket[change.range_key] = copy.deepcopy(change.before)
    elif change.before is None:
        table.items.pop(change.hash_key, None)
    else:
        table.items[change.hash_key] = copy.deepcopy(change.before)


def _restore_time(body: dict[str, Any], source: Table) -> float:
    now = time.time()
    if body.get("UseLatestRestorableTime") or "RestoreDateTime" not in body:
        return now
    value = body["RestoreDateTime"]  # moto's parser gives a datetime; epoch seconds on the wire
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        when = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    else:
        when = float(value)
    earliest = float(_pitr(source).get("EarliestRestorableDateTime", now))
    if not earliest <= when <= now:
        raise RestoreError("InvalidRestoreTimeException",
                           f"Restore time {when} is not within the restorable period "
                           f"{earliest} to {now} of table {source.name}")
    return when


def _restoring(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def restore_table_to_point_in_time(self: DynamoHandler) -> Any:
        body = self.body
        source = self.dynamodb_backend.tables.get(body.get("SourceTableName"))
        if source is None or not _enabled(source):
            # moto answers a missing table (SourceTableNotFoundException).
            if source is not None:
                raise RestoreError("PointInTimeRecoveryUnavailableException",
                                   f"Point in time recovery is not enabled for table "
                                   f"'{source.name}'")
            return method(self)
        when = _restore_time(body, source)
        with LOCK:  # no write between moto's copy and the put-backs
            result = method(self)
            target = self.dynamodb_backend.tables[body["TargetTableName"]]
            for change in reversed(history_of(source)):
                if change.at <= when:
                    break
                _put_back(target, change)
        target.restore_date_time = datetime.fromtimestamp(when, tz=timezone.utc).replace(tzinfo=None)
        return result

    restore_table_to_point_in_time._localcloud_pitr = True  # type: ignore[attr-defined]
    return restore_table_to_point_in_time


def _forgetting(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def update_continuous_backups(self: DynamoHandler) -> Any:
        result = method(self)
        table = self.dynamodb_backend.tables.get(self.body.get("TableName"))
        if table is not None and not _enabled(table):
            history_of(table).clear()
        return result

    update_continuous_backups._localcloud_pitr = True  # type: ignore[attr-defined]
    return update_continuous_backups


def apply() -> None:
    for name in WRITES:
        original = getattr(DynamoHandler, name)
        if not getattr(original, "_localcloud_pitr", False):
            setattr(DynamoHandler, name, _recorded(name, original))
    for name, wrap in (("restore_table_to_point_in_time", _restoring),
                       ("update_continuous_backups", _forgetting)):
        original = getattr(DynamoHandler, name)
        if not getattr(original, "_localcloud_pitr", False):
            setattr(DynamoHandler, name, wrap(original))
