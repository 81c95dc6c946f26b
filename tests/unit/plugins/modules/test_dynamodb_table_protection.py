"""dynamodb_table_protection against the local cloud: protect, idempotence, check mode, absent."""
from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from ansible_collections.autobuy.guard.plugins.modules import dynamodb_table_protection as protection
from plugin_harness import ModuleFailed, run_module  # type: ignore[import-not-found]


def run(args: dict[str, Any], monkeypatch: pytest.MonkeyPatch, check: bool = False) -> dict[str, Any]:
    return run_module(protection, args, check_mode=check, monkeypatch=monkeypatch)


def make_table() -> str:
    name = f"t_{uuid.uuid4().hex[:10]}"
    boto3.client("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    return name


def pitr(table: str) -> bool:
    desc = boto3.client("dynamodb").describe_continuous_backups(TableName=table)
    status = desc["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    return status["PointInTimeRecoveryStatus"] == "ENABLED"


def test_turns_protection_on_once(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    tables = [make_table(), make_table()]
    assert not any(pitr(t) for t in tables)
    first = run({"tables": tables}, monkeypatch)
    assert first["changed"] is True
    assert [t["name"] for t in first["tables"]] == tables
    assert all(t["changed"] and t["point_in_time_recovery"] and t["sse_type"] == "AWS_OWNED"
               for t in first["tables"])
    assert all(pitr(t) for t in tables)

    again = run({"tables": tables}, monkeypatch)
    assert again["changed"] is False
    assert not any(t["changed"] for t in again["tables"])


def test_only_the_table_that_differs_changes(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    done, fresh = make_table(), make_table()
    run({"tables": [done]}, monkeypatch)
    result = run({"tables": [done, fresh]}, monkeypatch)
    assert result["changed"] is True
    assert [t["changed"] for t in result["tables"]] == [False, True]


def test_check_mode_changes_nothing(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    table = make_table()
    result = run({"tables": [table]}, monkeypatch, check=True)
    assert result["changed"] is True
    assert result["tables"][0]["point_in_time_recovery"] is True
    assert pitr(table) is False


def test_absent_turns_protection_off(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    table = make_table()
    run({"tables": [table]}, monkeypatch)
    check = run({"tables": [table], "state": "absent"}, monkeypatch, check=True)
    assert check["changed"] is True and pitr(table) is True
    off = run({"tables": [table], "state": "absent"}, monkeypatch)
    assert off["changed"] is True
    assert off["tables"][0]["point_in_time_recovery"] is False
    assert pitr(table) is False
    assert run({"tables": [table], "state": "absent"}, monkeypatch)["changed"] is False


def test_explicit_connection_options_win(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The options module_defaults pass (endpoint, region, keys) reach the client."""
    table = make_table()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    result = run({"tables": [table], "endpoint_url": localcloud, "region": "eu-central-1",
                  "access_key": "localcloud", "secret_key": "localcloud"}, monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL", localcloud)
    assert result["changed"] is True and pitr(table)


def test_missing_table_is_a_clear_error(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed) as failed:
        run({"tables": ["no_such_table_x"]}, monkeypatch)
    assert "no_such_table_x" in failed.value.result["msg"]
    assert failed.value.result["error_code"] in ("TableNotFoundException", "ResourceNotFoundException")


@pytest.mark.parametrize(("args", "message"), [
    ({"tables": [""]}, "non-empty list"),
    ({"tables": ["t"], "kms_key_id": "alias/x"}, "only valid with sse_type=KMS"),
    ({"tables": ["t"], "region": "Frankfurt"}, "region must look like"),
])
def test_bad_input_is_rejected(args: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed) as failed:
        run(args, monkeypatch)
    assert message in failed.value.result["msg"]

