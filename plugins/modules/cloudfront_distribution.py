#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A CloudFront distribution in AWS's own configuration shape, found by its caller reference."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudfront_distribution
short_description: Ensure a CloudFront distribution has the given configuration (or is gone)
description:
  - C(community.aws.cloudfront_distribution) cannot give an origin an origin access control
    (only the legacy origin access identities) nor associate a CloudFront Function with a
    behaviour, both of which a private S3 site with SPA routing needs. This module takes the
    distribution's configuration in the shape of CloudFront's C(DistributionConfig) and
    creates, updates or deletes the distribution found by O(caller_reference).
  - Every list is given as C(Items); the C(Quantity) CloudFront wants beside it is counted
    here. Keys left out keep CloudFront's value (on create, its default); the comparison
    looks only at the keys given, so a second run with the same configuration changes nothing.
version_added: "1.2.0"
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  caller_reference:
    description: The distribution's unique, stable reference (set at create, never changed).
    type: str
    required: true
  config:
    description:
      - C(DistributionConfig) without C(CallerReference), in CloudFront's key names
        (C(Origins), C(DefaultCacheBehavior), C(CacheBehaviors), C(Aliases), C(ViewerCertificate)...).
      - Required with O(state=present).
    type: dict
  tags:
    description: Tags of the distribution (set when it is created and kept equal afterwards).
    type: dict
    default: {}
  wait:
    description: Wait until the distribution is C(Deployed) (and, with O(state=absent), until deleted).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait at most.
    type: int
    default: 1800
  state:
    description: C(present) creates or updates it; C(absent) disables it, waits until that is deployed, and deletes it.
extends_documentation_fragment:
  - autobuy.guard.autobuy_aws
  - autobuy.guard.state
notes:
  - Supports check mode.
  - Deleting takes one deployment of the disabled distribution (about 15 minutes on AWS).
"""

EXAMPLES = r"""
- name: The site's distribution
  autobuy.guard.cloudfront_distribution:
    caller_reference: autobuyguard-site
    config:
      Comment: AutoBuy Guard web app
      Enabled: true
      Origins:
        Items:
          - Id: site
            DomainName: autobuyguard-site.s3.eu-central-1.amazonaws.com
            OriginAccessControlId: "{{ oac.id }}"
            S3OriginConfig: {OriginAccessIdentity: ""}
      DefaultCacheBehavior:
        TargetOriginId: site
        ViewerProtocolPolicy: redirect-to-https
        CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6
  register: site
"""

RETURN = r"""
id:
  description: The distribution's id, for invalidations (empty when absent, or not created yet in check mode).
  returned: always
  type: str
arn:
  description: Its ARN (for the bucket policy's C(AWS:SourceArn)).
  returned: always
  type: str
domain_name:
  description: Its C(*.cloudfront.net) name (the target of alias records).
  returned: always
  type: str
hosted_zone_id:
  description: The Route 53 zone id of every distribution's alias target.
  returned: always
  type: str
  sample: Z2FDTNDATAQYW2
differences:
  description: What an update changed (or, in check mode, would change), as key paths of the configuration.
  returned: when the distribution existed
  type: list
  elements: str
  sample: ["DefaultCacheBehavior.ResponseHeadersPolicyId", "tags"]
status:
  description: C(InProgress) or C(Deployed) (empty when absent).
  returned: always
  type: str
"""

import time  # noqa: E402
from typing import Any  # noqa: E402

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import aws_retry  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import AutobuyAWSModule, ModuleFailure  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.cloudfront import differences, with_quantities  # noqa: E402

retry = aws_retry()
# Route 53's hosted zone id of every CloudFront alias target (AWS documents it as fixed).
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"


def find(client: Any, reference: str) -> tuple[dict[str, Any], dict[str, Any], str] | None:
    """(summary, config, etag) of the distribution with ``reference``, or None."""
    marker = ""
    while True:
        page = retry(client.list_distributions)(**({"Marker": marker} if marker else {}))["DistributionList"]
        for summary in page.get("Items") or []:
            got = retry(client.get_distribution_config)(Id=summary["Id"])
            if got["DistributionConfig"].get("CallerReference") == reference:
                return summary, got["DistributionConfig"], got["ETag"]
        marker = page.get("NextMarker") or ""
        if not page.get("IsTruncated") or not marker:
            return None


def wait_for(client: Any, distribution_id: str, timeout: int, gone: bool = False,
             sleep: Any = time.sleep) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            distribution = retry(client.get_distribution)(Id=distribution_id)["Distribution"]
        except client.exceptions.NoSuchDistribution:
            if gone:
                return {}
            raise
        if not gone and distribution["Status"] == "Deployed":
            return distribution
        if time.monotonic() > deadline:
            raise ModuleFailure(f"distribution {distribution_id} is still {distribution['Status']} "
                                f"after {timeout} s")
        sleep(5 if timeout > 60 else 1)


def _result(changed: bool, distribution: dict[str, Any] | None) -> dict[str, Any]:
    distribution = distribution or {}
    return {"changed": changed, "id": distribution.get("Id", ""), "arn": distribution.get("ARN", ""),
            "domain_name": distribution.get("DomainName", ""), "status": distribution.get("Status", ""),
            "hosted_zone_id": CLOUDFRONT_ZONE_ID}


def _sync_tags(client: Any, arn: str, want: dict[str, str], check_mode: bool) -> bool:
    items = retry(client.list_tags_for_resource)(Resource=arn)["Tags"].get("Items") or []
    have = {t["Key"]: t.get("Value", "") for t in items}
    stale = sorted(set(have) - set(want))
    fresh = {k: v for k, v in want.items() if have.get(k) != v}
    if check_mode or not (stale or fresh):
        return bool(stale or fresh)
    if stale:
        retry(client.untag_resource)(Resource=arn, TagKeys={"Items": stale})
    if fresh:
        retry(client.tag_resource)(Resource=arn, Tags={"Items": [{"Key": k, "Value": v} for k, v in fresh.items()]})
    return True


def absent(client: Any, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    found = find(client, params["caller_reference"])
    if found is None:
        return _result(False, None)
    summary, config, etag = found
    if check_mode:
        return _result(True, None)
    if config.get("Enabled"):
        retry(client.update_distribution)(Id=summary["Id"], IfMatch=etag,
                                          DistributionConfig={**config, "Enabled": False})
    wait_for(client, summary["Id"], params["wait_timeout"])  # AWS deletes only a deployed, disabled one
    etag = retry(client.get_distribution_config)(Id=summary["Id"])["ETag"]
    retry(client.delete_distribution)(Id=summary["Id"], IfMatch=etag)
    if params["wait"]:
        wait_for(client, summary["Id"], params["wait_timeout"], gone=True)
    return _result(True, None)


def present(client: Any, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    if not params.get("config"):
        raise ModuleFailure("config is required with state=present")
    if "CallerReference" in params["config"]:
        raise ModuleFailure("config must not hold CallerReference: give it as caller_reference")
    want = with_quantities(params["config"])
    found = find(client, params["caller_reference"])
    if found is None:
        if check_mode:
            return _result(True, None)
        tags = {"Items": [{"Key": k, "Value": v} for k, v in params["tags"].items()]}
        created = retry(client.create_distribution_with_tags)(DistributionConfigWithTags={
            "DistributionConfig": {**want, "CallerReference": params["caller_reference"]}, "Tags": tags})
        distribution = created["Distribution"]
        if params["wait"]:
            distribution = wait_for(client, distribution["Id"], params["wait_timeout"])
        return _result(True, distribution)
    summary, config, etag = found
    changed_keys = differences(config, want)
    changed = bool(changed_keys)
    if changed and not check_mode:
        retry(client.update_distribution)(Id=summary["Id"], IfMatch=etag, DistributionConfig={**config, **want})
    tags_changed = _sync_tags(client, summary["ARN"], params["tags"], check_mode)
    distribution = retry(client.get_distribution)(Id=summary["Id"])["Distribution"]
    if params["wait"] and not check_mode:
        distribution = wait_for(client, summary["Id"], params["wait_timeout"])
    return {**_result(changed or tags_changed, distribution),
            "differences": changed_keys + (["tags"] if tags_changed else [])}


def argument_spec() -> dict[str, Any]:
    return dict(
        caller_reference=dict(type="str", required=True),
        config=dict(type="dict"),
        tags=dict(type="dict", default={}),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=1800),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main() -> None:
    module = AutobuyAWSModule(argument_spec=argument_spec(), supports_check_mode=True,
                              required_if=[("state", "present", ["config"])])
    module.run("cloudfront", present if module.params["state"] == "present" else absent,
               f"Could not manage distribution {module.params['caller_reference']}")


if __name__ == "__main__":
    main()
