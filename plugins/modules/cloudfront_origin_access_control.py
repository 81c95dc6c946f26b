#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A CloudFront origin access control (OAC), found by its name."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudfront_origin_access_control
short_description: Ensure a CloudFront origin access control exists with the given settings (or not)
description:
  - CloudFront signs its requests to a private S3 bucket with an origin access control; the
    bucket policy then lets only that distribution read. C(community.aws) manages only the
    legacy origin access identities. This module creates, updates or deletes an origin
    access control found by its O(name) (unique in the account).
  - Groundwork of the web app's C(frontend) tier (a private bucket behind CloudFront).
version_added: "1.1.0"
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  name:
    description: The control's name (at most 64 characters), unique in the account.
    type: str
    required: true
  description:
    description: What the control is for.
    type: str
    default: ""
  origin_type:
    description: The kind of origin it signs for.
    type: str
    choices: [s3, mediastore, mediapackagev2, lambda]
    default: s3
  signing_behavior:
    description: C(always) signs every request (and overwrites a viewer's C(Authorization)), C(no-override) keeps a viewer's, C(never) signs none.
    type: str
    choices: [always, never, no-override]
    default: always
  state:
    description: C(present) creates or updates the control, C(absent) deletes it.
extends_documentation_fragment:
  - autobuy.guard.autobuy_aws
  - autobuy.guard.state
notes:
  - Supports check mode. The signing protocol is C(sigv4), the only one CloudFront offers.
  - A control that a distribution still uses cannot be deleted (CloudFront refuses).
"""

EXAMPLES = r"""
- name: The site bucket's origin access control
  autobuy.guard.cloudfront_origin_access_control:
    name: autobuyguard-site
    description: CloudFront reads the site bucket
  register: oac
"""

RETURN = r"""
id:
  description: The control's id, for an origin's C(OriginAccessControlId) (empty when absent, or not created yet in check mode).
  returned: always
  type: str
  sample: E2QWRUHAPOMQZL
changed:
  description: Whether the control was (or, in check mode, would be) created, updated or deleted.
  returned: always
  type: bool
"""

from typing import Any  # noqa: E402

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import aws_retry  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import ModuleFailure  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.cloudfront import run_named  # noqa: E402

retry = aws_retry()


def find(client: Any, name: str) -> dict[str, Any] | None:
    """The control summary named ``name``, or None (every page is read)."""
    marker = ""
    while True:
        page = retry(client.list_origin_access_controls)(
            **({"Marker": marker} if marker else {}))["OriginAccessControlList"]
        for item in page.get("Items") or []:
            if item.get("Name") == name:
                return item
        marker = page.get("NextMarker") or ""
        if not page.get("IsTruncated") or not marker:
            return None


def wanted(params: dict[str, Any]) -> dict[str, str]:
    name = params["name"].strip()
    if not name or len(name) > 64:
        raise ModuleFailure(f"name must be 1-64 characters, got {params['name']!r}")
    return {"Name": name, "Description": params["description"], "SigningProtocol": "sigv4",
            "SigningBehavior": params["signing_behavior"],
            "OriginAccessControlOriginType": params["origin_type"]}


def differs(current: dict[str, Any], want: dict[str, str]) -> bool:
    return any((current.get(key) or "") != value for key, value in want.items())


def ensure(client: Any, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    want = wanted(params)
    current = find(client, want["Name"])
    if params["state"] == "absent":
        if current is None:
            return {"changed": False, "id": ""}
        if not check_mode:
            etag = retry(client.get_origin_access_control)(Id=current["Id"])["ETag"]
            retry(client.delete_origin_access_control)(Id=current["Id"], IfMatch=etag)
        return {"changed": True, "id": ""}
    if current is None:
        if check_mode:
            return {"changed": True, "id": ""}
        created = retry(client.create_origin_access_control)(OriginAccessControlConfig=want)
        return {"changed": True, "id": created["OriginAccessControl"]["Id"]}
    if not differs(current, want):
        return {"changed": False, "id": current["Id"]}
    if not check_mode:
        etag = retry(client.get_origin_access_control)(Id=current["Id"])["ETag"]
        retry(client.update_origin_access_control)(Id=current["Id"], IfMatch=etag,
                                                   OriginAccessControlConfig=want)
    return {"changed": True, "id": current["Id"]}


def argument_spec() -> dict[str, Any]:
    return dict(
        name=dict(type="str", required=True),
        description=dict(type="str", default=""),
        origin_type=dict(type="str", choices=["s3", "mediastore", "mediapackagev2", "lambda"], default="s3"),
        signing_behavior=dict(type="str", choices=["always", "never", "no-override"], default="always"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main() -> None:
    run_named(argument_spec(), ensure, "origin access control")


if __name__ == "__main__":
    main()
