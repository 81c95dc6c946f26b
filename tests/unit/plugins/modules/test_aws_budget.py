"""aws_budget against the local cloud: create, idempotence, check mode, notifications, absent."""
from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from ansible_collections.autobuy.guard.plugins.modules import aws_budget
from plugin_harness import ModuleFailed, run_module  # type: ignore[import-not-found]


TOPIC = "arn:aws:sns:eu-central-1:123456789012:taskapp-alerts"


def run(args: dict[str, Any], monkeypatch: pytest.MonkeyPatch, check: bool = False) -> dict[str, Any]:
    return run_module(aws_budget, args, check_mode=check, monkeypatch=monkeypatch)


def account() -> str:
    return boto3.client("sts").get_caller_identity()["Account"]


def budget_args(**extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "name": f"b-{uuid.uuid4().hex[:10]}", "limit_amount": 50,
        "notifications": [{"threshold": 80, "subscribers": [{"type": "SNS", "address": TOPIC}]}],
    }
    return {**args, **extra}


def described(name: str) -> dict[str, Any] | None:
    client = boto3.client("budgets")
    try:
        return client.describe_budget(AccountId=account(), BudgetName=name)["Budget"]
    except client.exceptions.NotFoundException:
        return None


def subscribers(name: str) -> list[list[dict[str, str]]]:
    client = boto3.client("budgets")
    found = client.describe_notifications_for_budget(AccountId=account(), BudgetName=name)["Notifications"]
    return [client.describe_subscribers_for_notification(
        AccountId=account(), BudgetName=name, Notification=n)["Subscribers"] for n in found]


def test_creates_then_changes_nothing(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    args = budget_args()
    first = run(args, monkeypatch)
    assert first["changed"] is True
    assert first["budget"]["BudgetName"] == args["name"]
    assert first["budget"]["BudgetLimit"]["Unit"] == "USD"
    assert float(first["budget"]["BudgetLimit"]["Amount"]) == 50
    assert first["notifications"][0]["Notification"]["Threshold"] == 80.0
    assert subscribers(args["name"]) == [[{"SubscriptionType": "SNS", "Address": TOPIC}]]

    # "50.0" and 50 are the same limit
    again = run({**args, "limit_amount": 50.0}, monkeypatch)
    assert again["changed"] is False


def test_check_mode_creates_nothing(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    args = budget_args()
    result = run(args, monkeypatch, check=True)
    assert result["changed"] is True
    assert "budget" not in result
    assert described(args["name"]) is None


def test_check_mode_reports_a_new_limit(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    args = budget_args()
    run(args, monkeypatch)
    result = run({**args, "limit_amount": 75}, monkeypatch, check=True)
    assert result["changed"] is True
    assert float(described(args["name"])["BudgetLimit"]["Amount"]) == 50  # type: ignore[index]


def test_notifications_follow_the_options(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    args = budget_args()
    run(args, monkeypatch)
    email = {"type": "EMAIL", "address": "ops@example.org"}
    wider = {**args, "notifications": [
        {"threshold": 80, "subscribers": [{"type": "SNS", "address": TOPIC}, email]},
        {"threshold": 100, "notification_type": "FORECASTED", "subscribers": [email]},
    ]}
    assert run(wider, monkeypatch, check=True)["changed"] is True
    assert len(subscribers(args["name"])) == 1
    assert run(wider, monkeypatch)["changed"] is True
    assert sorted(len(s) for s in subscribers(args["name"])) == [1, 2]
    assert run(wider, monkeypatch)["changed"] is False
    # back to no notifications: the extra ones are removed
    assert run({**args, "notifications": []}, monkeypatch)["changed"] is True
    assert subscribers(args["name"]) == []


def test_absent_deletes_once(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    args = budget_args()
    run(args, monkeypatch)
    gone = {"name": args["name"], "state": "absent"}
    assert run(gone, monkeypatch, check=True)["changed"] is True
    assert described(args["name"]) is not None
    assert run(gone, monkeypatch)["changed"] is True
    assert described(args["name"]) is None
    assert run(gone, monkeypatch)["changed"] is False


def test_explicit_account_and_connection(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The options module_defaults pass (endpoint, region, keys) reach the client."""
    owner = account()
    args = budget_args(account_id=owner, endpoint_url=localcloud, region="eu-central-1",
                       access_key="localcloud", secret_key="localcloud")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    assert run(args, monkeypatch)["changed"] is True
    monkeypatch.setenv("AWS_ENDPOINT_URL", localcloud)
    assert described(args["name"]) is not None


@pytest.mark.parametrize(("args", "message"), [
    ({"name": "x"}, "limit_amount"),
    ({"name": "x", "limit_amount": 0}, "limit_amount must be > 0"),
    ({"name": "x", "limit_amount": 5, "account_id": "12"}, "account_id must be 12 digits"),
    ({"name": "x", "limit_amount": 5, "notifications": [{"threshold": 80, "subscribers": []}]},
     "at least one subscriber"),
    ({"name": "x", "limit_amount": 5, "notifications": [
        {"threshold": 80, "subscribers": [{"type": "SMS", "address": "1"}]}]}, "SMS"),
])
def test_bad_input_is_rejected(args: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed) as failed:
        run(args, monkeypatch)
    assert message in failed.value.result["msg"]

