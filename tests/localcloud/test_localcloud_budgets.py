"""Budgets gap fill: list, add and remove the subscribers of a notification."""
from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
NOTIFICATION = {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN",
                "Threshold": 80.0, "ThresholdType": "PERCENTAGE"}
OPS = {"SubscriptionType": "EMAIL", "Address": "ops@example.com"}
FIN = {"SubscriptionType": "EMAIL", "Address": "finance@example.com"}


@pytest.fixture
def budget(localcloud: str) -> str:
    name = f"budget-{uuid.uuid4().hex[:8]}"
    boto3.client("budgets").create_budget(
        AccountId=ACCOUNT,
        Budget={"BudgetName": name, "BudgetType": "COST", "TimeUnit": "MONTHLY",
                "BudgetLimit": {"Amount": "50", "Unit": "USD"}},
        NotificationsWithSubscribers=[{"Notification": NOTIFICATION, "Subscribers": [OPS]}])
    return name


def _subscribers(name: str) -> list[dict]:
    return boto3.client("budgets").describe_subscribers_for_notification(
        AccountId=ACCOUNT, BudgetName=name, Notification=NOTIFICATION)["Subscribers"]


def test_subscribers_are_listed_added_and_removed(budget: str) -> None:
    client = boto3.client("budgets")
    assert _subscribers(budget) == [OPS]
    client.create_subscriber(AccountId=ACCOUNT, BudgetName=budget,
                             Notification=NOTIFICATION, Subscriber=FIN)
    client.delete_subscriber(AccountId=ACCOUNT, BudgetName=budget,
                             Notification=NOTIFICATION, Subscriber=OPS)
    assert _subscribers(budget) == [FIN]


def test_unknown_notification_and_duplicate_subscriber_are_refused(budget: str) -> None:
    client = boto3.client("budgets")
    with pytest.raises(ClientError) as err:
        client.describe_subscribers_for_notification(
            AccountId=ACCOUNT, BudgetName=budget,
            Notification={**NOTIFICATION, "Threshold": 99.0})
    assert err.value.response["Error"]["Code"] == "NotFoundException"
    with pytest.raises(ClientError) as err:
        client.create_subscriber(AccountId=ACCOUNT, BudgetName=budget,
                                 Notification=NOTIFICATION, Subscriber=OPS)
    assert err.value.response["Error"]["Code"] == "DuplicateRecordException"
