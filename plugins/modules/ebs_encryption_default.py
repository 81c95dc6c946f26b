#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EBS encryption by default of the account in one region."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: ebs_encryption_default
short_description: Ensure EBS encryption by default is on (or off) for the account in a region
description:
  - Neither C(amazon.aws) nor C(community.aws) has a module for the account setting
    C(EnableEbsEncryptionByDefault). With it on, every new EBS volume and snapshot copy in
    the region is encrypted, with the AWS managed key C(aws/ebs) unless the account has
    chosen another default key (this module does not change that key).
  - Used by playbooks/security.yml; playbooks/teardown.yml (O(state=absent)) turns it off
    again, so the account is left as it was found.
  - The setting belongs to the account and region, not to a resource; turning it off
    affects any other workload in the same account and region.
version_added: "1.1.0"
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  state:
    description:
      - C(present) turns EBS encryption by default on.
      - C(absent) turns it off.
extends_documentation_fragment:
  - autobuy.guard.autobuy_aws
  - autobuy.guard.state
  - autobuy.guard.setting_check_mode
"""

EXAMPLES = r"""
- name: Encrypt every new EBS volume in the region
  autobuy.guard.ebs_encryption_default:
    state: present
    region: eu-central-1
    endpoint_url: "{{ aws_endpoint_url | default(omit, true) }}"

- name: Leave the account as it was found
  autobuy.guard.ebs_encryption_default:
    state: absent
"""

RETURN = r"""
enabled:
  description: Whether EBS encryption by default is on after the run (the wanted value in check mode).
  returned: always
  type: bool
  sample: true
changed:
  description: Whether the setting was (or, in check mode, would be) changed.
  returned: always
  type: bool
"""

from typing import Any  # noqa: E402

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import aws_retry  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import AutobuyAWSModule  # noqa: E402

retry = aws_retry()


def current(client: Any) -> bool:
    """Whether EBS encryption by default is on in the client's region."""
    return bool(retry(client.get_ebs_encryption_by_default)()["EbsEncryptionByDefault"])


def ensure(client: Any, want: bool, check_mode: bool) -> bool:
    """Bring the setting to ``want``; return whether it changed (would change)."""
    if current(client) == want:
        return False
    if not check_mode:
        if want:
            retry(client.enable_ebs_encryption_by_default)()
        else:
            retry(client.disable_ebs_encryption_by_default)()
    return True


def argument_spec() -> dict[str, Any]:
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main() -> None:
    module = AutobuyAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    want = module.params["state"] == "present"
    changed = False
    try:
        client = module.client("ec2")
        changed = ensure(client, want, module.check_mode)
    except Exception as exc:  # noqa: BLE001 - botocore errors, reported with their AWS code
        module.fail_on_error(exc, "Could not set EBS encryption by default")
    module.exit_json(changed=changed, enabled=want)


if __name__ == "__main__":
    main()
