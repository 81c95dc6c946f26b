#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cost budget with its notifications (neither collection has a budgets module)."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: aws_budget
short_description: Manage an AWS Budgets cost budget and its notifications
description:
  - Creates, updates or deletes a cost budget of the account in use, and makes its
    notifications match O(notifications) exactly (extra ones are removed).
  - Neither amazon.aws nor community.aws has a Budgets module; used by playbooks/monitoring.yml
    and teardown.yml.
version_added: "1.0.0"
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  name:
    description: Budget name.
    type: str
    required: true
  state:
    description: Whether the budget exists.
  limit_amount:
    description: Budget limit, in O(limit_unit). Required when O(state=present); must be > 0.
    type: float
  limit_unit:
    description: Currency of the limit.
    type: str
    default: USD
  time_unit:
    description: Period the limit applies to.
    type: str
    choices: [DAILY, MONTHLY, QUARTERLY, ANNUALLY]
    default: MONTHLY
  notifications:
    description: Notifications of the budget.
    type: list
    elements: dict
    default: []
    suboptions:
      notification_type:
        description: Actual or forecasted spend.
        type: str
        choices: [ACTUAL, FORECASTED]
        default: ACTUAL
      comparison:
        description: Comparison of spend against the threshold.
        type: str
        choices: [GREATER_THAN, LESS_THAN, EQUAL_TO]
        default: GREATER_THAN
      threshold:
        description: Threshold (percent of the limit unless O(notifications[].threshold_type=ABSOLUTE_VALUE)).
        type: float
        required: true
      threshold_type:
        description: How the threshold is read.
        type: str
        choices: [PERCENTAGE, ABSOLUTE_VALUE]
        default: PERCENTAGE
      subscribers:
        description: Who is notified.
        type: list
        elements: dict
        required: true
        suboptions:
          type:
            description: Subscription type.
            type: str
            choices: [EMAIL, SNS]
            required: true
          address:
            description: E-mail address or SNS topic ARN.
            type: str
            required: true
  account_id:
    description: Account that owns the budget (12 digits); defaults to the caller's account (STS GetCallerIdentity).
    type: str
extends_documentation_fragment:
  - autobuy.guard.autobuy_aws
  - autobuy.guard.state
notes:
  - Supports check mode. In check mode nothing is created, updated or deleted and
    RV(budget) is not returned.
  - When the Budgets API cannot list the subscribers of a notification (the local cloud),
    the subscribers of an existing notification are left as they are.
"""

EXAMPLES = r"""
- name: A monthly budget of 50 USD that notifies an SNS topic at 80 percent
  autobuy.guard.aws_budget:
    name: taskapp-monthly
    limit_amount: 50
    notifications:
      - threshold: 80
        subscribers:
          - type: SNS
            address: arn:aws:sns:eu-central-1:123456789012:taskapp-alerts
    region: eu-central-1
    endpoint_url: "{{ aws_endpoint_url | default(omit, true) }}"

- name: Delete the budget
  autobuy.guard.aws_budget:
    name: taskapp-monthly
    state: absent
"""

RETURN = r"""
budget:
  description: The budget as AWS Budgets describes it after the run.
  returned: when O(state=present) and not in check mode
  type: dict
  sample: {"BudgetName": "taskapp-monthly", "BudgetType": "COST", "TimeUnit": "MONTHLY",
           "BudgetLimit": {"Amount": "50", "Unit": "USD"}}
notifications:
  description: The wanted notifications, each with its subscribers, in the Budgets API shape.
  returned: when O(state=present)
  type: list
  elements: dict
  sample: [{"Notification": {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN",
            "Threshold": 80.0, "ThresholdType": "PERCENTAGE"},
            "Subscribers": [{"SubscriptionType": "SNS", "Address": "arn:aws:sns:eu-central-1:123456789012:taskapp-alerts"}]}]
changed:
  description: Whether the budget or its notifications were created, changed or deleted.
  returned: always
  type: bool
"""

import re  # noqa: E402
from decimal import Decimal, InvalidOperation  # noqa: E402
from typing import Any, Optional  # noqa: E402

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import aws_retry, error_code  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import AutobuyAWSModule, ModuleFailure  # noqa: E402

retry = aws_retry()
_ACCOUNT = re.compile(r"^\d{12}$")


def _amount(value: Any) -> str:
    """Canonical decimal string for comparing limits ("50", "50.0", "50.00" are equal)."""
    try:
        return format(Decimal(str(value)).normalize(), "f")
    except InvalidOperation as exc:
        raise ModuleFailure(f"not a number: {value!r}") from exc


def wanted_notifications(params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Notifications in the Budgets API shape, each with its sorted subscribers."""
    result = []
    for n in params:
        result.append({
            "Notification": {
                "NotificationType": n["notification_type"],
                "ComparisonOperator": n["comparison"],
                "Threshold": float(n["threshold"]),
                "ThresholdType": n["threshold_type"],
            },
            "Subscribers": sorted(
                ({"SubscriptionType": s["type"], "Address": s["address"]} for s in n["subscribers"]),
                key=lambda s: (s["SubscriptionType"], s["Address"]),
            ),
        })
    return result


def _key(notification: dict[str, Any]) -> tuple[Any, ...]:
    return (notification["NotificationType"], notification["ComparisonOperator"],
            float(notification["Threshold"]), notification.get("ThresholdType", "PERCENTAGE"))


class Budgets:
    """The Budgets calls of the module for one account and budget, each retried."""

    def __init__(self, client: Any, account_id: str, name: str) -> None:
        self.client, self.account_id, self.name = client, account_id, name

    def _ids(self) -> dict[str, str]:
        return {"AccountId": self.account_id, "BudgetName": self.name}

    def get(self) -> Optional[dict[str, Any]]:
        try:
            return retry(self.client.describe_budget)(**self._ids())["Budget"]
        except Exception as exc:  # noqa: BLE001 - only "not found" is an answer
            if error_code(exc) == "NotFoundException":
                return None
            raise

    def notifications(self) -> list[dict[str, Any]]:
        """Current notifications; Subscribers is None when the API cannot list them."""
        found = retry(self.client.describe_notifications_for_budget)(**self._ids()).get(
            "Notifications", [])
        return [{"Notification": n, "Subscribers": self.subscribers(n)} for n in found]

    def subscribers(self, notification: dict[str, Any]) -> Optional[list[dict[str, Any]]]:
        try:
            subs = retry(self.client.describe_subscribers_for_notification)(
                Notification=notification, **self._ids()).get("Subscribers", [])
        except Exception as exc:  # noqa: BLE001 - see below
            # Some implementations (the local cloud) cannot list subscribers; then the
            # subscribers of an existing notification are left as they are.
            if error_code(exc) is None:
                raise
            return None
        return sorted(subs, key=lambda s: (s["SubscriptionType"], s["Address"]))

    def create(self, body: dict[str, Any]) -> None:
        retry(self.client.create_budget)(AccountId=self.account_id, Budget=body)

    def update(self, body: dict[str, Any]) -> None:
        retry(self.client.update_budget)(AccountId=self.account_id, NewBudget=body)

    def delete(self) -> None:
        retry(self.client.delete_budget)(**self._ids())

    def add_notification(self, n: dict[str, Any]) -> None:
        retry(self.client.create_notification)(
            Notification=n["Notification"], Subscribers=n["Subscribers"], **self._ids())

    def remove_notification(self, n: dict[str, Any]) -> None:
        retry(self.client.delete_notification)(Notification=n["Notification"], **self._ids())


def budget_body(name: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "BudgetName": name,
        "BudgetType": "COST",
        "TimeUnit": params["time_unit"],
        "BudgetLimit": {"Amount": _amount(params["limit_amount"]), "Unit": params["limit_unit"]},
    }


def budget_differs(current: dict[str, Any], body: dict[str, Any]) -> bool:
    limit = current.get("BudgetLimit", {})
    return (_amount(limit.get("Amount", "0")) != body["BudgetLimit"]["Amount"]
            or limit.get("Unit") != body["BudgetLimit"]["Unit"]
            or current.get("TimeUnit") != body["TimeUnit"])


def ensure_budget(module: AutobuyAWSModule, budgets: Budgets) -> tuple[bool, bool]:
    """Create or update the budget itself; return (changed, existed before)."""
    body = budget_body(budgets.name, module.params)
    current = budgets.get()
    if current is None:
        if not module.check_mode:
            budgets.create(body)
        return True, False
    if budget_differs(current, body):
        if not module.check_mode:
            budgets.update(body)
        return True, True
    return False, True


def ensure_notifications(module: AutobuyAWSModule, budgets: Budgets, existed: bool) -> tuple[bool, list[dict[str, Any]]]:
    """Make the notifications match; return (changed, wanted notifications)."""
    changed = False
    have = {_key(n["Notification"]): n for n in (budgets.notifications() if existed else [])}
    want = {_key(n["Notification"]): n for n in wanted_notifications(module.params["notifications"])}

    def outdated(key: tuple[Any, ...]) -> bool:
        subs = have[key]["Subscribers"]
        return subs is not None and key in want and subs != want[key]["Subscribers"]

    for key, n in have.items():
        if key not in want or outdated(key):
            changed = True
            if not module.check_mode:
                budgets.remove_notification(n)
    for key, n in want.items():
        if key not in have or outdated(key):
            changed = True
            if not module.check_mode:
                budgets.add_notification(n)
    return changed, list(want.values())


def ensure_present(module: AutobuyAWSModule, budgets: Budgets) -> dict[str, Any]:
    budget_changed, existed = ensure_budget(module, budgets)
    notes_changed, notifications = ensure_notifications(module, budgets, existed)
    result: dict[str, Any] = {"changed": budget_changed or notes_changed,
                              "notifications": notifications}
    if not module.check_mode:
        result["budget"] = budgets.get() or {}
    return result


def ensure_absent(module: AutobuyAWSModule, budgets: Budgets) -> dict[str, Any]:
    if budgets.get() is None:
        return {"changed": False}
    if not module.check_mode:
        budgets.delete()
    return {"changed": True}


def validate(params: dict[str, Any]) -> None:
    """Reject input that cannot mean anything before any AWS call."""
    if not params["name"].strip():
        raise ModuleFailure("name must not be empty")
    if params["account_id"] and not _ACCOUNT.match(params["account_id"]):
        raise ModuleFailure(f"account_id must be 12 digits, got {params['account_id']!r}")
    if params["state"] == "present" and params["limit_amount"] <= 0:
        raise ModuleFailure(f"limit_amount must be > 0, got {params['limit_amount']}")
    for n in params["notifications"]:
        if n["threshold"] <= 0:
            raise ModuleFailure(f"notification threshold must be > 0, got {n['threshold']}")
        if not n["subscribers"]:
            raise ModuleFailure("every notification needs at least one subscriber")


def argument_spec() -> dict[str, Any]:
    subscriber = dict(type=dict(type="str", choices=["EMAIL", "SNS"], required=True),
                      address=dict(type="str", required=True))
    notification = dict(
        notification_type=dict(type="str", choices=["ACTUAL", "FORECASTED"], default="ACTUAL"),
        comparison=dict(type="str", choices=["GREATER_THAN", "LESS_THAN", "EQUAL_TO"],
                        default="GREATER_THAN"),
        threshold=dict(type="float", required=True),
        threshold_type=dict(type="str", choices=["PERCENTAGE", "ABSOLUTE_VALUE"], default="PERCENTAGE"),
        subscribers=dict(type="list", elements="dict", required=True, options=subscriber),
    )
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        limit_amount=dict(type="float"),
        limit_unit=dict(type="str", default="USD"),
        time_unit=dict(type="str", choices=["DAILY", "MONTHLY", "QUARTERLY", "ANNUALLY"], default="MONTHLY"),
        notifications=dict(type="list", elements="dict", default=[], options=notification),
        account_id=dict(type="str"),
    )


def main() -> None:
    module = AutobuyAWSModule(argument_spec=argument_spec(),
                              required_if=[("state", "present", ["limit_amount"])],
                              supports_check_mode=True)
    p = module.params
    try:
        validate(p)
        account_id = p["account_id"]
        if not account_id:
            account_id = retry(module.client("sts").get_caller_identity)()["Account"]
        # Budgets is a global service: botocore routes every region to its global endpoint.
        budgets = Budgets(module.client("budgets"), account_id, p["name"])
        result = ensure_present(module, budgets) if p["state"] == "present" else ensure_absent(module, budgets)
    except Exception as exc:  # noqa: BLE001 - ModuleFailure as it is, botocore errors with their AWS code
        module.fail_on_error(exc, f"Could not manage budget {p['name']}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
