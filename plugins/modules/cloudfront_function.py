#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A published CloudFront Function, found by its name."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudfront_function
short_description: Ensure a CloudFront Function exists with the given code, published (or not)
description:
  - A CloudFront Function runs at the edge on a viewer request or response; the web app's
    C(frontend) tier routes the SPA's paths to C(/index.html) with one. Neither
    C(amazon.aws) nor C(community.aws) manages functions.
  - Creates the function or updates its code and comment, and publishes it whenever the
    C(LIVE) stage differs from what is wanted (a distribution runs only the C(LIVE) stage).
version_added: "1.2.0"
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  name:
    description: The function's name (letters, digits, C(-) and C(_), at most 64), unique in the account.
    type: str
    required: true
  code:
    description: The function's JavaScript source. Required with O(state=present).
    type: str
  comment:
    description: What the function is for.
    type: str
    default: ""
  runtime:
    description: The JavaScript runtime.
    type: str
    choices: [cloudfront-js-1.0, cloudfront-js-2.0]
    default: cloudfront-js-2.0
  state:
    description: C(present) creates, updates and publishes it; C(absent) deletes it.
extends_documentation_fragment:
  - autobuy.guard.autobuy_aws
  - autobuy.guard.state
notes:
  - Supports check mode.
  - A function that a distribution still uses cannot be deleted (CloudFront refuses).
"""

EXAMPLES = r"""
- name: SPA routing
  autobuy.guard.cloudfront_function:
    name: autobuyguard-spa-routing
    comment: Paths without a file extension get /index.html
    code: "{{ lookup('ansible.builtin.file', 'spa-routing.js') }}"
  register: spa
"""

RETURN = r"""
arn:
  description: The function's ARN (for a behaviour's C(FunctionAssociations); empty when absent).
  returned: always
  type: str
"""

import re  # noqa: E402
from typing import Any  # noqa: E402

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import aws_retry  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import ModuleFailure  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.cloudfront import run_named  # noqa: E402

retry = aws_retry()
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _code(client: Any, name: str, stage: str) -> bytes | None:
    try:
        body = retry(client.get_function)(Name=name, Stage=stage)["FunctionCode"]
    except client.exceptions.NoSuchFunctionExists:
        return None
    return body.read() if hasattr(body, "read") else bytes(body)


def _describe(client: Any, name: str, stage: str) -> tuple[dict[str, Any], str] | None:
    try:
        got = retry(client.describe_function)(Name=name, Stage=stage)
    except client.exceptions.NoSuchFunctionExists:
        return None
    return got["FunctionSummary"], got["ETag"]


def ensure(client: Any, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    name = params["name"]
    if not _NAME.match(name):
        raise ModuleFailure(f"name must be 1-64 letters, digits, '-' or '_', got {name!r}")
    development = _describe(client, name, "DEVELOPMENT")
    if params["state"] == "absent":
        if development is None:
            return {"changed": False, "arn": ""}
        if not check_mode:
            retry(client.delete_function)(Name=name, IfMatch=development[1])
        return {"changed": True, "arn": ""}
    if not params.get("code"):
        raise ModuleFailure("code is required with state=present")
    code = params["code"].encode()
    config = {"Comment": params["comment"], "Runtime": params["runtime"]}
    changed = False
    if development is None:
        if check_mode:
            return {"changed": True, "arn": ""}
        created = retry(client.create_function)(Name=name, FunctionConfig=config, FunctionCode=code)
        development, changed = (created["FunctionSummary"], created["ETag"]), True
    else:
        have = development[0].get("FunctionConfig") or {}
        if (_code(client, name, "DEVELOPMENT") != code or have.get("Comment", "") != config["Comment"]
                or have.get("Runtime") != config["Runtime"]):
            changed = True
            if not check_mode:
                updated = retry(client.update_function)(Name=name, IfMatch=development[1],
                                                        FunctionConfig=config, FunctionCode=code)
                development = (updated["FunctionSummary"], updated["ETag"])
    live = _describe(client, name, "LIVE")
    live_config = (live[0].get("FunctionConfig") or {}) if live else {}
    if live is None or _code(client, name, "LIVE") != code or live_config.get("Comment", "") != config["Comment"] \
            or live_config.get("Runtime") != config["Runtime"]:
        changed = True
        if not check_mode:
            retry(client.publish_function)(Name=name, IfMatch=development[1])
    return {"changed": changed, "arn": development[0]["FunctionMetadata"]["FunctionARN"]}


def argument_spec() -> dict[str, Any]:
    return dict(
        name=dict(type="str", required=True),
        code=dict(type="str"),
        comment=dict(type="str", default=""),
        runtime=dict(type="str", choices=["cloudfront-js-1.0", "cloudfront-js-2.0"], default="cloudfront-js-2.0"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main() -> None:
    run_named(argument_spec(), ensure, "function", content="code")


if __name__ == "__main__":
    main()
