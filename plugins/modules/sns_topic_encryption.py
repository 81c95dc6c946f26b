#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server-side encryption (KMS key) of an SNS topic."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: sns_topic_encryption
short_description: Ensure an SNS topic is encrypted at rest with a given KMS key (or not at all)
description:
  - C(community.aws.sns_topic) creates topics but does not manage their C(KmsMasterKeyId)
    attribute. This module sets or removes it on an existing topic and reports a change
    only when the key differs.
  - Used by playbooks/monitoring.yml after the alerts topic exists. CloudWatch alarms and
    AWS Budgets cannot publish to a topic encrypted with the AWS managed key C(alias/aws/sns)
    (its key policy does not let them use it), hence a customer managed key there.
version_added: "1.1.0"
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  topic_arn:
    description: ARN of the topic; a missing topic fails the task with its ARN.
    type: str
    required: true
  kms_key_id:
    description:
      - KMS key id, ARN, alias name (C(alias/...)) or alias ARN to encrypt with.
      - Required when O(state=present).
      - Compared as written with what the topic holds, so write it the same way every run.
    type: str
  state:
    description:
      - C(present) encrypts the topic with O(kms_key_id).
      - C(absent) removes the key (messages are stored unencrypted by SNS's own key).
extends_documentation_fragment:
  - autobuy.guard.autobuy_aws
  - autobuy.guard.state
  - autobuy.guard.setting_check_mode
"""

EXAMPLES = r"""
- name: Encrypt the alerts topic with our key
  autobuy.guard.sns_topic_encryption:
    topic_arn: arn:aws:sns:eu-central-1:123456789012:taskapp-alerts
    kms_key_id: alias/autobuy-alerts
    region: eu-central-1
    endpoint_url: "{{ aws_endpoint_url | default(omit, true) }}"

- name: Stop encrypting the topic
  autobuy.guard.sns_topic_encryption:
    topic_arn: arn:aws:sns:eu-central-1:123456789012:taskapp-alerts
    state: absent
"""

RETURN = r"""
kms_key_id:
  description: The topic's key after the run (the wanted key in check mode); empty when unencrypted.
  returned: always
  type: str
  sample: alias/autobuy-alerts
changed:
  description: Whether the key was (or, in check mode, would be) changed.
  returned: always
  type: bool
"""

from typing import Any  # noqa: E402

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import aws_retry  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import AutobuyAWSModule, ModuleFailure  # noqa: E402

retry = aws_retry()


def current_key(client: Any, topic_arn: str) -> str:
    """The topic's KmsMasterKeyId, empty when it is not encrypted."""
    attributes = retry(client.get_topic_attributes)(TopicArn=topic_arn)["Attributes"]
    return attributes.get("KmsMasterKeyId", "")


def wanted_key(params: dict[str, Any]) -> str:
    """The key the topic should end up with ('' = none); reject what cannot mean anything."""
    if params["state"] == "absent":
        return ""
    key = (params["kms_key_id"] or "").strip()
    if not key:
        raise ModuleFailure("kms_key_id is required when state=present")
    return key


def argument_spec() -> dict[str, Any]:
    return dict(
        topic_arn=dict(type="str", required=True),
        kms_key_id=dict(type="str", no_log=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main() -> None:
    module = AutobuyAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    topic_arn = module.params["topic_arn"]
    want = ""
    changed = False
    try:
        want = wanted_key(module.params)
        client = module.client("sns")
        if current_key(client, topic_arn) != want:
            changed = True
            if not module.check_mode:
                retry(client.set_topic_attributes)(
                    TopicArn=topic_arn, AttributeName="KmsMasterKeyId", AttributeValue=want
                )
    except Exception as exc:  # noqa: BLE001 - ModuleFailure as it is, botocore errors with their AWS code
        module.fail_on_error(exc, f"Could not set the encryption of topic {topic_arn}")
    module.exit_json(changed=changed, kms_key_id=want)


if __name__ == "__main__":
    main()
