#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A CloudFront response headers policy in AWS's own shape, found by its name."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudfront_response_headers_policy
short_description: Ensure a CloudFront response headers policy has the given configuration (or is gone)
description:
  - C(community.aws.cloudfront_response_headers_policy) reports a change on every check-mode
    run and returns no policy id then, and decides C(changed) from the age of the policy's
    timestamp; a check-mode run of a converged stack then claims changes it would not make.
    This module compares the stored configuration with the wanted one, in check mode too.
  - The configuration is CloudFront's C(ResponseHeadersPolicyConfig) without C(Name); every
    list is given as C(Items) and its C(Quantity) is counted here.
version_added: "1.2.0"
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  name:
    description: The policy's name, unique in the account.
    type: str
    required: true
  config:
    description:
      - C(ResponseHeadersPolicyConfig) without C(Name) (C(Comment), C(SecurityHeadersConfig),
        C(CustomHeadersConfig), C(CorsConfig)...). Required with O(state=present).
      - An update replaces the whole stored configuration with this one.
    type: dict
  state:
    description: C(present) creates or updates it; C(absent) deletes it (refused while a distribution uses it).
extends_documentation_fragment:
  - autobuy.guard.autobuy_aws
  - autobuy.guard.state
notes:
  - Supports check mode.
"""

EXAMPLES = r"""
- name: Security headers of the site
  autobuy.guard.cloudfront_response_headers_policy:
    name: autobuyguard-headers
    config:
      Comment: Security headers
      SecurityHeadersConfig:
        ContentTypeOptions: {Override: true}
        StrictTransportSecurity: {Override: true, AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true}
  register: headers
"""

RETURN = r"""
id:
  description: The policy's id, for C(ResponseHeadersPolicyId) in a cache behaviour (empty when absent, or not created yet in check mode).
  returned: always
  type: str
differences:
  description: The configuration's key paths an update changed (or would change).
  returned: always
  type: list
  elements: str
"""

from typing import Any  # noqa: E402

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import aws_retry  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import ModuleFailure  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.cloudfront import differences, run_named, with_quantities  # noqa: E402

retry = aws_retry()


def find(client: Any, name: str) -> tuple[str, dict[str, Any], str] | None:
    """(id, stored configuration, ETag) of the custom policy named ``name``, or None."""
    marker = ""
    while True:
        page = retry(client.list_response_headers_policies)(
            Type="custom", **({"Marker": marker} if marker else {}))["ResponseHeadersPolicyList"]
        for item in page.get("Items") or []:
            policy = item["ResponseHeadersPolicy"]
            if policy["ResponseHeadersPolicyConfig"].get("Name") == name:
                got = retry(client.get_response_headers_policy_config)(Id=policy["Id"])
                return policy["Id"], got["ResponseHeadersPolicyConfig"], got["ETag"]
        marker = page.get("NextMarker") or ""
        if not marker:
            return None


def ensure(client: Any, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    name = params["name"].strip()
    if not name:
        raise ModuleFailure("name must not be empty")
    found = find(client, name)
    if params["state"] == "absent":
        if found is None:
            return {"changed": False, "id": "", "differences": []}
        if not check_mode:
            retry(client.delete_response_headers_policy)(Id=found[0], IfMatch=found[2])
        return {"changed": True, "id": "", "differences": []}
    if not params.get("config"):
        raise ModuleFailure("config is required with state=present")
    if "Name" in params["config"]:
        raise ModuleFailure("config must not hold Name: give it as name")
    want = {"Name": name, **with_quantities(params["config"])}
    if found is None:
        if check_mode:
            return {"changed": True, "id": "", "differences": ["."]}
        created = retry(client.create_response_headers_policy)(ResponseHeadersPolicyConfig=want)
        return {"changed": True, "id": created["ResponseHeadersPolicy"]["Id"], "differences": ["."]}
    policy_id, current, etag = found
    changed = differences(current, want)
    if changed and not check_mode:
        retry(client.update_response_headers_policy)(Id=policy_id, IfMatch=etag, ResponseHeadersPolicyConfig=want)
    return {"changed": bool(changed), "id": policy_id, "differences": changed}


def argument_spec() -> dict[str, Any]:
    return dict(
        name=dict(type="str", required=True),
        config=dict(type="dict"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main() -> None:
    run_named(argument_spec(), ensure, "response headers policy", content="config")


if __name__ == "__main__":
    main()
