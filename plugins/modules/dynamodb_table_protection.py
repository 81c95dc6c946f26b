#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Point-in-time recovery and encryption at rest of DynamoDB tables."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: dynamodb_table_protection
short_description: Ensure point-in-time recovery and server-side encryption of DynamoDB tables
description:
  - C(community.aws.dynamodb_table) creates tables but manages neither continuous backups
    (point-in-time recovery) nor the encryption key type. This module sets both, for
    several tables in one run, and reports a change only when it changed something.
  - Used by playbooks/data.yml after the tables exist.
  - O(state=absent) turns the protection off again (point-in-time recovery off, AWS owned
    key), for example before a table is handed back; it does not delete tables.
version_added: "1.0.0"
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  tables:
    description: Names of the tables to protect; a missing table fails the task with its name.
    type: list
    elements: str
    required: true
  state:
    description:
      - C(present) applies O(point_in_time_recovery) and O(sse_type).
      - C(absent) turns point-in-time recovery off and returns to the AWS owned key,
        whatever O(point_in_time_recovery) and O(sse_type) say.
  point_in_time_recovery:
    description: Whether point-in-time recovery is on.
    type: bool
    default: true
  sse_type:
    description:
      - C(AWS_OWNED) encrypts with an AWS owned key (DynamoDB's default, no C(SSEDescription)).
      - C(KMS) encrypts with a KMS key (O(kms_key_id), else the C(aws/dynamodb) managed key).
    type: str
    choices: [AWS_OWNED, KMS]
    default: AWS_OWNED
  kms_key_id:
    description: KMS key id, ARN or alias when O(sse_type=KMS).
    type: str
extends_documentation_fragment:
  - autobuy.guard.autobuy_aws
  - autobuy.guard.state
  - autobuy.guard.setting_check_mode
"""

EXAMPLES = r"""
- name: Turn on point-in-time recovery for the tables
  autobuy.guard.dynamodb_table_protection:
    tables: [autobuy_users, autobuy_items]
    point_in_time_recovery: true
    sse_type: AWS_OWNED
    region: eu-central-1
    endpoint_url: "{{ aws_endpoint_url | default(omit, true) }}"

- name: Encrypt the tables with a customer managed KMS key
  autobuy.guard.dynamodb_table_protection:
    tables: [autobuy_users]
    sse_type: KMS
    kms_key_id: alias/autobuy-data

- name: Turn the protection off again
  autobuy.guard.dynamodb_table_protection:
    tables: [autobuy_users, autobuy_items]
    state: absent
"""

RETURN = r"""
tables:
  description: State of each table after the run (the wanted state in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Table name.
      type: str
    point_in_time_recovery:
      description: Whether point-in-time recovery is on.
      type: bool
    sse_type:
      description: AWS_OWNED or KMS.
      type: str
    changed:
      description: Whether this run changed the table.
      type: bool
  sample: [{"name": "autobuy_users", "point_in_time_recovery": true, "sse_type": "AWS_OWNED", "changed": false}]
changed:
  description: Whether any table was changed.
  returned: always
  type: bool
"""

from typing import Any, Optional  # noqa: E402

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import aws_retry  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import AutobuyAWSModule, ModuleFailure  # noqa: E402

retry = aws_retry()


def current_pitr(client: Any, table: str) -> bool:
    """Whether point-in-time recovery is on for the table."""
    desc = retry(client.describe_continuous_backups)(TableName=table)
    pitr = desc["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
    return pitr.get("PointInTimeRecoveryStatus") == "ENABLED"


def current_sse(client: Any, table: str) -> tuple[str, Optional[str]]:
    """The table's encryption key type and KMS key ARN (None for AWS owned keys)."""
    desc = retry(client.describe_table)(TableName=table)["Table"]
    sse = desc.get("SSEDescription") or {}
    if sse.get("Status") in ("ENABLED", "ENABLING", "UPDATING") and sse.get("SSEType") == "KMS":
        return "KMS", sse.get("KMSMasterKeyArn")
    return "AWS_OWNED", None


def sse_specification(sse_type: str, kms_key_id: Optional[str]) -> dict[str, Any]:
    """The SSESpecification of UpdateTable for the wanted key type."""
    if sse_type == "AWS_OWNED":
        return {"Enabled": False}
    spec: dict[str, Any] = {"Enabled": True, "SSEType": "KMS"}
    if kms_key_id:
        spec["KMSMasterKeyId"] = kms_key_id
    return spec


def key_differs(want_sse: str, kms_key_id: Optional[str], kms_arn: Optional[str]) -> bool:
    """True when a KMS table uses another key than the one asked for."""
    return bool(want_sse == "KMS" and kms_key_id and kms_arn and not kms_arn.endswith(kms_key_id))


def wanted(params: dict[str, Any]) -> tuple[bool, str, Optional[str]]:
    """(point-in-time recovery, key type, KMS key) the tables should end up with."""
    if params["state"] == "absent":
        return False, "AWS_OWNED", None
    return params["point_in_time_recovery"], params["sse_type"], params["kms_key_id"]


def ensure_table(module: AutobuyAWSModule, client: Any, table: str) -> dict[str, Any]:
    """Bring one table to the wanted settings; return its resulting state."""
    want_pitr, want_sse, kms_key_id = wanted(module.params)
    changed = False
    if current_pitr(client, table) != want_pitr:
        changed = True
        if not module.check_mode:
            retry(client.update_continuous_backups)(
                TableName=table,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": want_pitr},
            )
    sse_type, kms_arn = current_sse(client, table)
    if sse_type != want_sse or key_differs(want_sse, kms_key_id, kms_arn):
        changed = True
        if not module.check_mode:
            retry(client.update_table)(
                TableName=table, SSESpecification=sse_specification(want_sse, kms_key_id)
            )
    return {"name": table, "point_in_time_recovery": want_pitr, "sse_type": want_sse,
            "changed": changed}


def validate(params: dict[str, Any]) -> None:
    """Reject input that cannot mean anything before any AWS call."""
    tables = params["tables"]
    if not tables or any(not str(t).strip() for t in tables):
        raise ModuleFailure("tables must be a non-empty list of table names")
    if params["kms_key_id"] and params["sse_type"] != "KMS":
        raise ModuleFailure("kms_key_id is only valid with sse_type=KMS")


def argument_spec() -> dict[str, Any]:
    return dict(
        tables=dict(type="list", elements="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        point_in_time_recovery=dict(type="bool", default=True),
        sse_type=dict(type="str", choices=["AWS_OWNED", "KMS"], default="AWS_OWNED"),
        kms_key_id=dict(type="str"),
    )


def main() -> None:
    module = AutobuyAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    results: list[dict[str, Any]] = []
    table = ""
    try:
        validate(module.params)
        client = module.client("dynamodb")
        for table in module.params["tables"]:
            results.append(ensure_table(module, client, table))
    except Exception as exc:  # noqa: BLE001 - ModuleFailure as it is, botocore errors with their AWS code
        module.fail_on_error(exc, f"Could not set the protection of table {table}", tables=results)
    module.exit_json(changed=any(r["changed"] for r in results), tables=results)


if __name__ == "__main__":
    main()
