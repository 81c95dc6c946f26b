#!/usr/bin/python
# -*- coding: utf-8 -*-
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
options:
  tables:
    description: Names of existing tables.
    type: list
    elements: str
    required: true
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
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Turn on point-in-time recovery for the tables
  dynamodb_table_protection:
    tables: [autobuy_users, autobuy_items]
    point_in_time_recovery: true
    sse_type: AWS_OWNED
"""

RETURN = r"""
tables:
  description: State of each table after the run.
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
"""

from typing import Any

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # handled by AnsibleAWSModule
    pass

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def current_pitr(client: Any, table: str) -> bool:
    """Whether point-in-time recovery is on for the table."""
    desc = client.describe_continuous_backups(aws_retry=True, TableName=table)
    pitr = desc["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
    return pitr.get("PointInTimeRecoveryStatus") == "ENABLED"


def current_sse(client: Any, table: str) -> tuple[str, str | None]:
    """The table's encryption key type and KMS key ARN (None for AWS owned keys)."""
    desc = client.describe_table(aws_retry=True, TableName=table)["Table"]
    sse = desc.get("SSEDescription") or {}
    if sse.get("Status") in ("ENABLED", "ENABLING", "UPDATING") and sse.get("SSEType") == "KMS":
        return "KMS", sse.get("KMSMasterKeyArn")
    return "AWS_OWNED", None


def sse_specification(sse_type: str, kms_key_id: str | None) -> dict[str, Any]:
    if sse_type == "AWS_OWNED":
        return {"Enabled": False}
    spec: dict[str, Any] = {"Enabled": True, "SSEType": "KMS"}
    if kms_key_id:
        spec["KMSMasterKeyId"] = kms_key_id
    return spec


def ensure_table(module: AnsibleAWSModule, client: Any, table: str) -> dict[str, Any]:
    """Bring one table to the wanted settings; return its resulting state."""
    want_pitr = module.params["point_in_time_recovery"]
    want_sse = module.params["sse_type"]
    kms_key_id = module.params["kms_key_id"]
    changed = False
    if current_pitr(client, table) != want_pitr:
        changed = True
        if not module.check_mode:
            client.update_continuous_backups(
                aws_retry=True,
                TableName=table,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": want_pitr},
            )
    sse_type, kms_arn = current_sse(client, table)
    key_differs = want_sse == "KMS" and kms_key_id and kms_arn and not kms_arn.endswith(kms_key_id)
    if sse_type != want_sse or key_differs:
        changed = True
        if not module.check_mode:
            client.update_table(
                aws_retry=True, TableName=table,
                SSESpecification=sse_specification(want_sse, kms_key_id),
            )
    return {"name": table, "point_in_time_recovery": want_pitr, "sse_type": want_sse,
            "changed": changed}


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "tables": {"type": "list", "elements": "str", "required": True},
            "point_in_time_recovery": {"type": "bool", "default": True},
            "sse_type": {"type": "str", "choices": ["AWS_OWNED", "KMS"], "default": "AWS_OWNED"},
            "kms_key_id": {"type": "str"},
        },
        supports_check_mode=True,
    )
    client = module.client("dynamodb", retry_decorator=AWSRetry.jittered_backoff())
    results = []
    for table in module.params["tables"]:
        try:
            results.append(ensure_table(module, client, table))
        except (BotoCoreError, ClientError) as e:
            module.fail_json_aws(e, msg=f"Could not set the protection of table {table}")
    module.exit_json(changed=any(r["changed"] for r in results), tables=results)


if __name__ == "__main__":
    main()
