"""Budgets: DescribeSubscribersForNotification, CreateSubscriber, DeleteSubscriber.

moto stores each notification's subscribers but has none of the three actions
(HTTP 500), so a budget module cannot see or change who is notified, and an
alert e-mail address change could not converge.
"""
from __future__ import annotations

import json
from typing import Any

from moto.budgets.exceptions import DuplicateRecordException, NotFoundException
from moto.budgets.responses import BudgetsResponse

from localcloud import patching


def _key(notification: dict[str, Any]) -> tuple[Any, ...]:
    return (
        notification.get("NotificationType"),
        notification.get("ComparisonOperator"),
        float(notification.get("Threshold", 0)),
        notification.get("ThresholdType") or "PERCENTAGE",
    )


def _notification(response: BudgetsResponse):
    account_id = response._get_param("AccountId")
    name = response._get_param("BudgetName")
    budget = response.backend.budgets[account_id].get(name)
    if budget is None:
        raise NotFoundException(f"Unable to get budget: {name} - the budget doesn't exist.")
    wanted = _key(response._get_param("Notification") or {})
    for notification in budget.notifications:
        if _key(notification.details) == wanted:
            return notification
    raise NotFoundException(f"Unable to find the notification of budget {name}.")


def _subscriber(raw: dict[str, Any] | None) -> dict[str, str]:
    raw = raw or {}
    if raw.get("SubscriptionType") not in ("EMAIL", "SNS") or not raw.get("Address"):
        raise NotFoundException("Subscriber needs SubscriptionType EMAIL or SNS and an Address")
    return {"SubscriptionType": raw["SubscriptionType"], "Address": raw["Address"]}


def describe_subscribers_for_notification(self: BudgetsResponse) -> str:
    notification = _notification(self)
    return json.dumps({"Subscribers": list(notification.subscribers or [])})


def create_subscriber(self: BudgetsResponse) -> str:
    notification = _notification(self)
    subscriber = _subscriber(self._get_param("Subscriber"))
    current = list(notification.subscribers or [])
    if subscriber in current:
        raise DuplicateRecordException("subscriber", subscriber["Address"])
    notification.subscribers = current + [subscriber]
    return json.dumps({})


def delete_subscriber(self: BudgetsResponse) -> str:
    notification = _notification(self)
    subscriber = _subscriber(self._get_param("Subscriber"))
    current = list(notification.subscribers or [])
    if subscriber not in current:
        raise NotFoundException(f"Subscriber {subscriber['Address']} not found")
    notification.subscribers = [s for s in current if s != subscriber]
    return json.dumps({})


def apply() -> None:
    patching.answer(BudgetsResponse, describe_subscribers_for_notification, create_subscriber,
                    delete_subscriber)
