#!/usr/bin/python
# -*- coding: utf-8 -*-
"""A cost budget with its notifications (neither collection has a budgets module)."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: aws_budget
short_description: Manage an AWS Budgets cost budget and its notifications
description:
  - Creates, updates or deletes a cost budget of the account in use, and makes its
    notifications match O(notifications) exactly (extra ones are removed).
  - Neither amazon.aws nor community.aws has a Budgets module; used by playbooks/monitoring.yml.
options:
  name:
    description: Budget name.
    type: str
    required: true
  state:
    description: Whether the budget exists.
    type: str
    choices: [present, absent]
    default: present
  limit_amount:
    description: Budget limit, in O(limit_unit). Required when O(state=present).
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
    description: Account that owns the budget; defaults to the caller's account.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A monthly budget of 50 USD that notifies an SNS topic at 80 percent
  aws_budget:
    name: taskapp-monthly
    limit_amount: 50
    notifications:
      - threshold: 80
        subscribers:
          - type: SNS
            address: arn:aws:sns:eu-central-1:123456789012:taskapp-alerts
"""

RETURN = r"""
budget:
  description: The budget as AWS Budgets describes it (absent after deletion).
  returned: when state is present
  type: dict
notifications:
  description: The notifications after the run, each with its subscribers.
  returned: when state is present
  type: list
  elements: dict
"""

from decimal import Decimal
from typing import Any

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # handled by AnsibleAWSModule
    pass

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def _amount(value: Any) -> str:
    """Canonical decimal string for comparing limits ("50", "50.0", "50.00" are equal)."""
    return format(Decimal(str(value)).normalize(), "f")


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
    """Thin wrapper over the Budgets client for one account and budget."""

    def __init__(self, client: Any, account_id: str, name: str) -> None:
        self.client, self.account_id, self.name = client, account_id, name

    def get(self) -> dict[str, Any] | None:
        try:
            return self.client.describe_budget(
                aws_retry=True, AccountId=self.account_id, BudgetName=self.name)["Budget"]
        except is_boto3_error_code("NotFoundException"):
            return None

    def notifications(self) -> list[dict[str, Any]]:
        """Current notifications; Subscribers is None when the API cannot list them."""
        found = self.client.describe_notifications_for_budget(
            aws_retry=True, AccountId=self.account_id, BudgetName=self.name
        ).get("Notifications", [])
        return [{"Notification": n, "Subscribers": self.subscribers(n)} for n in found]

    def subscribers(self, notification: dict[str, Any]) -> list[dict[str, Any]] | None:
        try:
            subs = self.client.describe_subscribers_for_notification(
                aws_retry=True, AccountId=self.account_id, BudgetName=self.name,
                Notification=notification,
            ).get("Subscribers", [])
        except ClientError:
            # Some implementations (the local cloud) cannot list subscribers; then the
            # subscribers of an existing notification are left as they are.
            return None
        return sorted(subs, key=lambda s: (s["SubscriptionType"], s["Address"]))


def budget_body(name: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "BudgetName": name,
        "BudgetType": "COST",
        "TimeUnit": params["time_unit"],
        "BudgetLimit": {"Amount": _amount(params["limit_amount"]), "Unit": params["limit_unit"]},
    }


def ensure_present(module: AnsibleAWSModule, budgets: Budgets) -> dict[str, Any]:
    params = module.params
    changed = False
    body = budget_body(budgets.name, params)
    current = budgets.get()
    if current is None:
        changed = True
        if not module.check_mode:
            budgets.client.create_budget(aws_retry=True, AccountId=budgets.account_id, Budget=body)
    else:
        limit = current.get("BudgetLimit", {})
        if (_amount(limit.get("Amount", "0")) != body["BudgetLimit"]["Amount"]
                or limit.get("Unit") != body["BudgetLimit"]["Unit"]
                or current.get("TimeUnit") != body["TimeUnit"]):
            changed = True
            if not module.check_mode:
                budgets.client.update_budget(aws_retry=True, AccountId=budgets.account_id, NewBudget=body)
    have = {_key(n["Notification"]): n for n in (budgets.notifications() if current else [])}
    want = {_key(n["Notification"]): n for n in wanted_notifications(params["notifications"])}
    for key, n in have.items():
        outdated = n["Subscribers"] is not None and key in want and n["Subscribers"] != want[key]["Subscribers"]
        if key not in want or outdated:
            changed = True
            if not module.check_mode:
                budgets.client.delete_notification(
                    aws_retry=True, AccountId=budgets.account_id, BudgetName=budgets.name,
                    Notification=n["Notification"])
    for key, n in want.items():
        outdated = key in have and have[key]["Subscribers"] is not None and (
            have[key]["Subscribers"] != n["Subscribers"])
        if key not in have or outdated:
            changed = True
            if not module.check_mode:
                budgets.client.create_notification(
                    aws_retry=True, AccountId=budgets.account_id, BudgetName=budgets.name,
                    Notification=n["Notification"], Subscribers=n["Subscribers"])
    result: dict[str, Any] = {"changed": changed, "notifications": list(want.values())}
    if not module.check_mode:
        result["budget"] = budgets.get() or {}
    return result


def ensure_absent(module: AnsibleAWSModule, budgets: Budgets) -> dict[str, Any]:
    if budgets.get() is None:
        return {"changed": False}
    if not module.check_mode:
        budgets.client.delete_budget(aws_retry=True, AccountId=budgets.account_id,
                                     BudgetName=budgets.name)
    return {"changed": True}


def main() -> None:
    subscriber = {"type": {"type": "str", "choices": ["EMAIL", "SNS"], "required": True},
                  "address": {"type": "str", "required": True}}
    notification = {
        "notification_type": {"type": "str", "choices": ["ACTUAL", "FORECASTED"], "default": "ACTUAL"},
        "comparison": {"type": "str", "choices": ["GREATER_THAN", "LESS_THAN", "EQUAL_TO"],
                       "default": "GREATER_THAN"},
        "threshold": {"type": "float", "required": True},
        "threshold_type": {"type": "str", "choices": ["PERCENTAGE", "ABSOLUTE_VALUE"],
                           "default": "PERCENTAGE"},
        "subscribers": {"type": "list", "elements": "dict", "required": True, "options": subscriber},
    }
    module = AnsibleAWSModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "limit_amount": {"type": "float"},
            "limit_unit": {"type": "str", "default": "USD"},
            "time_unit": {"type": "str", "choices": ["DAILY", "MONTHLY", "QUARTERLY", "ANNUALLY"],
                          "default": "MONTHLY"},
            "notifications": {"type": "list", "elements": "dict", "default": [], "options": notification},
            "account_id": {"type": "str"},
        },
        required_if=[("state", "present", ["limit_amount"])],
        supports_check_mode=True,
    )
    retry = AWSRetry.jittered_backoff()
    account_id = module.params["account_id"]
    try:
        if not account_id:
            sts = module.client("sts", retry_decorator=retry)
            account_id = sts.get_caller_identity(aws_retry=True)["Account"]
        # Budgets is a global service with its endpoint in us-east-1.
        client = module.client("budgets", retry_decorator=retry)
        budgets = Budgets(client, account_id, module.params["name"])
        if module.params["state"] == "present":
            result = ensure_present(module, budgets)
        else:
            result = ensure_absent(module, budgets)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Could not manage budget {module.params['name']}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
