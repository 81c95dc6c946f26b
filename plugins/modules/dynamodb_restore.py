#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Point-in-time restore of a DynamoDB table into a new table."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: dynamodb_restore
short_description: Restore a DynamoDB table to a point in time into a new table
description:
  - Restores O(source_table) as it was at O(restore_time) (point-in-time recovery must be
    on for it) into the new table O(target_table), and waits until the new table is
    C(ACTIVE). DynamoDB never restores over an existing table; the app is then pointed at
    the new one (playbooks/restore.yml does that through C(AUTOBUY_TABLE_NAMES)).
  - Idempotent by name. When O(target_table) exists already and is a restore of
    O(source_table), nothing is changed and its restore summary is returned; a table of
    that name that is not such a restore fails the task.
  - A restored table has point-in-time recovery off and no TTL, as on AWS; turn them on
    with M(autobuy.guard.dynamodb_table_protection) and C(community.aws.dynamodb_ttl).
version_added: "1.0.0"
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  source_table:
    description: The table to restore (point-in-time recovery on).
    type: str
    required: true
  target_table:
    description: The new table's name.
    type: str
    required: true
  restore_time:
    description:
      - C(latest) for the latest restorable time, or a UTC date and time in ISO 8601
        (C(2026-12-01T07:30:00Z)) between the source's earliest and latest restorable times.
    type: str
    default: latest
  wait_timeout:
    description: Seconds to wait for the new table to become C(ACTIVE).
    type: int
    default: 1800
extends_documentation_fragment:
  - autobuy.guard.autobuy_aws
notes:
  - Supports check mode (nothing is restored; RV(changed) tells whether it would be).
  - Bad input (an empty name, the same source and target, a restore time that is not
    ISO 8601) fails before any AWS call; a source without point-in-time recovery or a time
    outside its restorable period fails with AWS's error code and message.
"""

EXAMPLES = r"""
- name: Restore the items table as it was before the bad release
  autobuy.guard.dynamodb_restore:
    source_table: autobuy_items
    target_table: autobuy_items-restored-0412
    restore_time: "2026-12-01T04:12:00Z"
    region: eu-central-1

- name: Restore the users table to the latest restorable time
  autobuy.guard.dynamodb_restore:
    source_table: autobuy_users
    target_table: autobuy_users-restored-latest
"""

RETURN = r"""
table:
  description: The new table's name, status and restore summary.
  returned: success, not in check mode when the table did not exist
  type: dict
  contains:
    name:
      description: Table name.
      type: str
    status:
      description: Table status (C(ACTIVE) after the wait).
      type: str
    source_table_arn:
      description: ARN of the table it was restored from.
      type: str
    restore_date_time:
      description: The point in time it holds (ISO 8601).
      type: str
  sample: {"name": "autobuy_items-restored-0412", "status": "ACTIVE",
           "source_table_arn": "arn:aws:dynamodb:eu-central-1:123456789012:table/autobuy_items",
           "restore_date_time": "2026-12-01T04:12:00+00:00"}
changed:
  description: Whether a table was restored.
  returned: always
  type: bool
"""

from datetime import datetime, timezone  # noqa: E402
from typing import Any, Optional  # noqa: E402

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import WaitTimeout, aws_retry, wait_until  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import AutobuyAWSModule, ModuleFailure  # noqa: E402

retry = aws_retry()


def parse_time(value: str) -> Optional[datetime]:
    """None for ``latest``, else the UTC datetime of an ISO 8601 string."""
    if value.strip().lower() == "latest":
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ModuleFailure(f"restore_time must be 'latest' or ISO 8601 (2026-12-01T07:30:00Z), "
                            f"not {value!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def validate(params: dict[str, Any]) -> Optional[datetime]:
    source, target = params["source_table"].strip(), params["target_table"].strip()
    if not source or not target:
        raise ModuleFailure("source_table and target_table must be table names")
    if source == target:
        raise ModuleFailure(f"target_table must be a new table, not the source {source}")
    if params["wait_timeout"] < 0:
        raise ModuleFailure("wait_timeout must be >= 0")
    return parse_time(params["restore_time"])


def describe(client: Any, name: str) -> Optional[dict[str, Any]]:
    try:
        return retry(client.describe_table)(TableName=name)["Table"]
    except client.exceptions.ResourceNotFoundException:
        return None


def summary(table: dict[str, Any]) -> dict[str, Any]:
    restore = table.get("RestoreSummary") or {}
    when = restore.get("RestoreDateTime")
    return {"name": table["TableName"], "status": table.get("TableStatus", ""),
            "source_table_arn": restore.get("SourceTableArn", ""),
            "restore_date_time": when.isoformat() if hasattr(when, "isoformat") else str(when or "")}


def wait_active(client: Any, name: str, timeout: int) -> dict[str, Any]:
    try:
        return wait_until(lambda: describe(client, name) or {},
                          lambda table: table.get("TableStatus") == "ACTIVE",
                          timeout=timeout, interval=2.0, what=f"table {name} to be ACTIVE")
    except WaitTimeout as exc:
        raise ModuleFailure(str(exc)) from exc


def restore(module: AutobuyAWSModule, client: Any, when: Optional[datetime]) -> dict[str, Any]:
    source, target = module.params["source_table"].strip(), module.params["target_table"].strip()
    existing = describe(client, target)
    if existing is not None:
        origin = (existing.get("RestoreSummary") or {}).get("SourceTableArn", "")
        if not origin.endswith(f":table/{source}"):
            raise ModuleFailure(f"table {target} exists and is not a restore of {source}: "
                                "choose another target_table")
        return {"changed": False, "table": summary(existing)}
    if module.check_mode:
        return {"changed": True}
    args: dict[str, Any] = {"SourceTableName": source, "TargetTableName": target}
    if when is None:
        args["UseLatestRestorableTime"] = True
    else:
        args["RestoreDateTime"] = when
    retry(client.restore_table_to_point_in_time)(**args)
    return {"changed": True,
            "table": summary(wait_active(client, target, module.params["wait_timeout"]))}


def argument_spec() -> dict[str, Any]:
    return dict(
        source_table=dict(type="str", required=True),
        target_table=dict(type="str", required=True),
        restore_time=dict(type="str", default="latest"),
        wait_timeout=dict(type="int", default=1800),
    )


def main() -> None:
    module = AutobuyAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        when = validate(module.params)
        result = restore(module, module.client("dynamodb"), when)
    except Exception as exc:  # noqa: BLE001 - ModuleFailure as it is, botocore errors with their AWS code
        module.fail_on_error(exc, f"Could not restore table {module.params['source_table']}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
