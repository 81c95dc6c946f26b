"""dynamodb_restore against the local cloud: the table as it was, idempotence, check mode,
bad input, AWS's refusals."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest

from ansible_collections.autobuy.guard.plugins.modules import dynamodb_restore
from plugin_harness import ModuleFailed, run_module  # type: ignore[import-not-found]


def run(args: dict[str, Any], monkeypatch: pytest.MonkeyPatch, check: bool = False) -> dict[str, Any]:
    return run_module(dynamodb_restore, args, check_mode=check, monkeypatch=monkeypatch)


def make_table(pitr: bool = True) -> str:
    client = boto3.client("dynamodb")
    name = f"r_{uuid.uuid4().hex[:10]}"
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    if pitr:
        client.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    return name


def keys(table: str) -> set[str]:
    return {i["pk"]["S"] for i in boto3.client("dynamodb").scan(TableName=table)["Items"]}


def test_restores_the_table_as_it_was_then_once(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = boto3.client("dynamodb")
    source = make_table()
    client.put_item(TableName=source, Item={"pk": {"S": "kept"}})
    moment = time.time()
    while time.time() <= moment:
        time.sleep(0.001)
    client.delete_item(TableName=source, Key={"pk": {"S": "kept"}})
    client.put_item(TableName=source, Item={"pk": {"S": "later"}})
    when = datetime.fromtimestamp(moment, tz=timezone.utc).isoformat()
    args = {"source_table": source, "target_table": source + "-restored", "restore_time": when}

    planned = run(args, monkeypatch, check=True)
    assert planned["changed"] is True
    assert source + "-restored" not in client.list_tables()["TableNames"]

    first = run(args, monkeypatch)
    assert first["changed"] is True
    assert first["table"]["status"] == "ACTIVE"
    assert first["table"]["source_table_arn"].endswith(f":table/{source}")
    assert keys(source + "-restored") == {"kept"}

    again = run(args, monkeypatch)
    assert again["changed"] is False
    assert again["table"]["name"] == source + "-restored"

    latest = run({"source_table": source, "target_table": source + "-latest"}, monkeypatch)
    assert latest["changed"] is True and keys(source + "-latest") == {"later"}


def test_a_target_that_is_no_restore_of_the_source_is_refused(localcloud: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    source, other = make_table(), make_table()
    with pytest.raises(ModuleFailed, match=f"{other} exists and is not a restore of {source}"):
        run({"source_table": source, "target_table": other}, monkeypatch)


def test_a_source_without_point_in_time_recovery_fails_with_the_aws_code(
        localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    source = make_table(pitr=False)
    with pytest.raises(ModuleFailed) as failed:
        run({"source_table": source, "target_table": source + "-x"}, monkeypatch)
    assert failed.value.result["error_code"] == "PointInTimeRecoveryUnavailableException"


@pytest.mark.parametrize(("args", "message"), [
    ({"source_table": "a", "target_table": "a"}, "must be a new table"),
    ({"source_table": " ", "target_table": "b"}, "must be table names"),
    ({"source_table": "a", "target_table": "b", "restore_time": "yesterday"}, "ISO 8601"),
])
def test_bad_input_fails_before_any_aws_call(args: dict[str, Any], message: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def no_client(*_: Any, **__: Any) -> Any:
        raise AssertionError("an AWS client was made")

    monkeypatch.setattr(dynamodb_restore.AutobuyAWSModule, "client", no_client)
    with pytest.raises(ModuleFailed, match=message):
        run(args, monkeypatch)
