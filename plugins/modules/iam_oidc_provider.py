#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An IAM OpenID Connect identity provider (e.g. GitHub Actions' token issuer)."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_oidc_provider
short_description: Ensure an IAM OpenID Connect identity provider exists, or is gone
description:
  - Neither C(amazon.aws) nor C(community.aws) manage IAM OpenID Connect providers. This
    module creates, updates (audiences, thumbprints, tags) and deletes one, found by its
    issuer URL (an account has at most one provider per URL).
  - Used by playbooks/delivery.yml for C(token.actions.githubusercontent.com), the issuer
    GitHub Actions' OIDC tokens come from, so a workflow can assume a role without keys.
version_added: "1.0.0"
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  url:
    description:
      - Issuer URL, with C(https://) (e.g. C(https://token.actions.githubusercontent.com)).
    type: str
    required: true
  client_ids:
    description:
      - Audiences the provider accepts (the C(aud) claim), e.g. C(sts.amazonaws.com).
      - Required with O(state=present).
    type: list
    elements: str
  thumbprints:
    description:
      - SHA-1 fingerprints (40 hex digits) of the issuer's certificate chain. AWS no longer
        checks them for well-known issuers such as GitHub, but the API still stores them.
    type: list
    elements: str
    default: []
  tags:
    description: Tags of the provider; tags not listed are removed.
    type: dict
    default: {}
  state:
    description: Whether the provider exists.
extends_documentation_fragment:
  - autobuy.guard.autobuy_aws
  - autobuy.guard.state
notes:
  - Supports check mode; RV(arn) is then the ARN the provider has or would have.
"""

EXAMPLES = r"""
- name: Let GitHub Actions' tokens into the account
  autobuy.guard.iam_oidc_provider:
    url: https://token.actions.githubusercontent.com
    client_ids: [sts.amazonaws.com]
    tags:
      Project: autobuy-guard

- name: Remove it again
  autobuy.guard.iam_oidc_provider:
    url: https://token.actions.githubusercontent.com
    state: absent
"""

RETURN = r"""
arn:
  description: ARN of the provider (null with O(state=absent) when there was none).
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com
client_ids:
  description: Audiences the provider accepts after the run.
  returned: when O(state=present)
  type: list
  elements: str
thumbprints:
  description: Thumbprints after the run.
  returned: when O(state=present)
  type: list
  elements: str
changed:
  description: Whether anything was created, updated or deleted.
  returned: always
  type: bool
"""

import re  # noqa: E402
from typing import Any, Optional  # noqa: E402

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import aws_retry  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import AutobuyAWSModule, ModuleFailure  # noqa: E402

retry = aws_retry()

_THUMBPRINT = re.compile(r"^[0-9a-fA-F]{40}$")


def host_path(url: str) -> str:
    """The issuer as IAM stores it: the URL without its scheme and trailing slash."""
    return re.sub(r"^https://", "", url).rstrip("/")


def validate(params: dict[str, Any]) -> None:
    """Reject input that cannot mean anything before any AWS call."""
    if not params["url"].startswith("https://") or not host_path(params["url"]):
        raise ModuleFailure(f"url must be an https:// issuer URL, not '{params['url']}'")
    if params["state"] == "present":
        if not params["client_ids"] or any(not str(c).strip() for c in params["client_ids"]):
            raise ModuleFailure("client_ids must list at least one audience with state=present")
        bad = [t for t in params["thumbprints"] if not _THUMBPRINT.match(t)]
        if bad:
            raise ModuleFailure(f"thumbprints must be 40 hexadecimal digits: {', '.join(bad)}")
        if len(params["thumbprints"]) > 5:
            raise ModuleFailure("IAM stores at most 5 thumbprints")


def find(client: Any, url: str) -> Optional[tuple[str, dict[str, Any]]]:
    """(ARN, GetOpenIDConnectProvider answer) of the provider for this issuer, or None."""
    wanted = host_path(url)
    for entry in retry(client.list_open_id_connect_providers)()["OpenIDConnectProviderList"]:
        arn = entry["Arn"]
        if arn.split(":oidc-provider/", 1)[-1] == wanted:
            return arn, retry(client.get_open_id_connect_provider)(OpenIDConnectProviderArn=arn)
    return None


def planned_arn(module: AutobuyAWSModule, url: str) -> str:
    """The ARN a new provider for this issuer gets (check mode: nothing is created)."""
    identity = retry(module.client("sts").get_caller_identity)()
    partition = identity["Arn"].split(":")[1]
    return f"arn:{partition}:iam::{identity['Account']}:oidc-provider/{host_path(url)}"


def ensure_present(module: AutobuyAWSModule, client: Any) -> dict[str, Any]:
    params = module.params
    want_ids = sorted(set(params["client_ids"]))
    want_prints = sorted({t.lower() for t in params["thumbprints"]})
    want_tags = {str(k): str(v) for k, v in params["tags"].items()}
    found = find(client, params["url"])
    if found is None:
        if module.check_mode:
            return {"changed": True, "arn": planned_arn(module, params["url"]),
                    "client_ids": want_ids, "thumbprints": want_prints}
        kwargs: dict[str, Any] = {"Url": params["url"], "ClientIDList": want_ids,
                                  "ThumbprintList": want_prints}
        if want_tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(want_tags.items())]
        arn = retry(client.create_open_id_connect_provider)(**kwargs)["OpenIDConnectProviderArn"]
        return {"changed": True, "arn": arn, "client_ids": want_ids, "thumbprints": want_prints}

    arn, current = found
    changed = False
    have_ids = set(current.get("ClientIDList", []))
    for cid in sorted(set(want_ids) - have_ids):
        changed = True
        if not module.check_mode:
            retry(client.add_client_id_to_open_id_connect_provider)(OpenIDConnectProviderArn=arn, ClientID=cid)
    for cid in sorted(have_ids - set(want_ids)):
        changed = True
        if not module.check_mode:
            retry(client.remove_client_id_from_open_id_connect_provider)(OpenIDConnectProviderArn=arn, ClientID=cid)
    if sorted(t.lower() for t in current.get("ThumbprintList", [])) != want_prints:
        changed = True
        if not module.check_mode:
            retry(client.update_open_id_connect_provider_thumbprint)(
                OpenIDConnectProviderArn=arn, ThumbprintList=want_prints)
    have_tags = {t["Key"]: t["Value"] for t in current.get("Tags", [])}
    if have_tags != want_tags:
        changed = True
        if not module.check_mode:
            stale = sorted(set(have_tags) - set(want_tags))
            if stale:
                retry(client.untag_open_id_connect_provider)(OpenIDConnectProviderArn=arn, TagKeys=stale)
            if want_tags:
                retry(client.tag_open_id_connect_provider)(
                    OpenIDConnectProviderArn=arn,
                    Tags=[{"Key": k, "Value": v} for k, v in sorted(want_tags.items())])
    return {"changed": changed, "arn": arn, "client_ids": want_ids, "thumbprints": want_prints}


def ensure_absent(module: AutobuyAWSModule, client: Any) -> dict[str, Any]:
    found = find(client, module.params["url"])
    if found is None:
        return {"changed": False, "arn": None}
    if not module.check_mode:
        retry(client.delete_open_id_connect_provider)(OpenIDConnectProviderArn=found[0])
    return {"changed": True, "arn": found[0]}


def argument_spec() -> dict[str, Any]:
    return dict(
        url=dict(type="str", required=True),
        client_ids=dict(type="list", elements="str"),
        thumbprints=dict(type="list", elements="str", default=[]),
        tags=dict(type="dict", default={}),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main() -> None:
    module = AutobuyAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        validate(module.params)
        client = module.client("iam")
        if module.params["state"] == "present":
            result = ensure_present(module, client)
        else:
            result = ensure_absent(module, client)
    except Exception as exc:  # noqa: BLE001 - ModuleFailure as it is, botocore errors with their AWS code
        module.fail_on_error(exc, f"Could not manage the OIDC provider {module.params['url']}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
