#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Easy DKIM of an SES domain identity: its tokens, the CNAME records they need, signing on/off."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: ses_domain_dkim
short_description: Ensure Easy DKIM is set up for an SES domain identity and return its DNS records
description:
  - C(community.aws.ses_identity) creates and verifies a domain identity but does not manage
    DKIM. This module asks SES for the domain's Easy DKIM tokens (C(VerifyDomainDkim), only
    when the domain has none yet), turns DKIM signing on or off (C(SetIdentityDkimEnabled))
    and returns the three CNAME records to write into the domain's hosted zone.
  - Used by playbooks/mail.yml after the domain identity exists.
version_added: "1.1.0"
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  domain:
    description: The domain identity (it must exist in SES, e.g. created by C(community.aws.ses_identity)).
    type: str
    required: true
  state:
    description:
      - C(present) gets DKIM tokens for the domain when it has none and turns signing on.
      - C(absent) turns DKIM signing off (the tokens stay with the identity, as in SES).
extends_documentation_fragment:
  - autobuy.guard.autobuy_aws
  - autobuy.guard.state
notes:
  - Supports check mode. In check mode nothing is changed; a domain without tokens yet
    (or without an identity yet, which an earlier task of the same run would create)
    returns no records.
  - SES reports RV(verification_status) C(Pending) until the CNAME records are published,
    then C(Success); the module does not wait for it.
"""

EXAMPLES = r"""
- name: Set up Easy DKIM for the mail domain
  autobuy.guard.ses_domain_dkim:
    domain: autobuyguard.store
    region: eu-central-1
  register: dkim

# Easy DKIM's records are always three CNAMEs, TOKEN._domainkey.DOMAIN pointing to
# TOKEN.dkim.amazonses.com; SES looks for them on its own and reports Success when found.
- name: Publish the three DKIM CNAME records
  amazon.aws.route53:
    zone: autobuyguard.store
    record: "{{ item.name }}"
    type: CNAME
    value: "{{ item.value }}"
    ttl: 300
    overwrite: true
  loop: "{{ dkim.records }}"
  loop_control:
    label: "{{ item.name }}"

- name: Turn DKIM signing off (the tokens stay with the identity)
  autobuy.guard.ses_domain_dkim:
    domain: autobuyguard.store
    region: eu-central-1
    state: absent
"""

RETURN = r"""
tokens:
  description: The domain's Easy DKIM tokens.
  returned: always
  type: list
  elements: str
  sample: [vvjuipp74whm76gqoni7qmwwn4w4qusj]
records:
  description: The CNAME records SES looks for, one per token.
  returned: always
  type: list
  elements: dict
  sample: [{name: vvjuipp74whm76gqoni7qmwwn4w4qusj._domainkey.autobuyguard.store, type: CNAME,
            value: vvjuipp74whm76gqoni7qmwwn4w4qusj.dkim.amazonses.com}]
enabled:
  description: Whether DKIM signing is on after the run (what it would be, in check mode).
  returned: always
  type: bool
verification_status:
  description: SES's DKIM verification status (C(Pending), C(Success), C(Failed), C(TemporaryFailure), C(NotStarted)).
  returned: always
  type: str
changed:
  description: Whether tokens were requested or signing was switched.
  returned: always
  type: bool
"""

from typing import Any  # noqa: E402

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import aws_retry  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import AutobuyAWSModule, ModuleFailure  # noqa: E402

retry = aws_retry()
DKIM_TARGET = "dkim.amazonses.com"


def records_for(domain: str, tokens: list[str]) -> list[dict[str, str]]:
    """The CNAME records of Easy DKIM: TOKEN._domainkey.DOMAIN -> TOKEN.dkim.amazonses.com."""
    return [{"name": f"{token}._domainkey.{domain}", "type": "CNAME", "value": f"{token}.{DKIM_TARGET}"}
            for token in tokens]


def domain_of(value: str) -> str:
    domain = value.strip().rstrip(".").lower()
    if not domain or "@" in domain or "." not in domain or " " in domain:
        raise ModuleFailure(f"domain must be a domain name such as autobuyguard.store, got {value!r}")
    return domain


def identity_exists(client: Any, domain: str) -> bool:
    attributes = retry(client.get_identity_verification_attributes)(Identities=[domain])
    return domain in attributes.get("VerificationAttributes", {})


def dkim_attributes(client: Any, domain: str) -> dict[str, Any]:
    got = retry(client.get_identity_dkim_attributes)(Identities=[domain])["DkimAttributes"]
    return got.get(domain, {"DkimEnabled": False, "DkimVerificationStatus": "NotStarted"})


def ensure(client: Any, domain: str, want_enabled: bool, check_mode: bool) -> dict[str, Any]:
    if not identity_exists(client, domain):
        if check_mode and want_enabled:  # an earlier task of the same check run would create it
            return {"changed": True, "tokens": [], "records": [], "enabled": True,
                    "verification_status": "NotStarted"}
        raise ModuleFailure(f"SES has no identity {domain}: create it first (community.aws.ses_identity)")
    current = dkim_attributes(client, domain)
    tokens = list(current.get("DkimTokens") or [])
    enabled = bool(current.get("DkimEnabled"))
    changed = False
    if want_enabled and not tokens:
        changed = True
        if not check_mode:
            tokens = list(retry(client.verify_domain_dkim)(Domain=domain)["DkimTokens"])
            enabled = bool(dkim_attributes(client, domain).get("DkimEnabled"))
    if enabled != want_enabled and (tokens or not want_enabled):
        changed = True
        if not check_mode:
            retry(client.set_identity_dkim_enabled)(Identity=domain, DkimEnabled=want_enabled)
        enabled = want_enabled
    status = current.get("DkimVerificationStatus", "NotStarted")
    if not check_mode and changed:
        status = dkim_attributes(client, domain).get("DkimVerificationStatus", status)
    return {"changed": changed, "tokens": tokens, "records": records_for(domain, tokens),
            "enabled": enabled, "verification_status": status}


def argument_spec() -> dict[str, Any]:
    return dict(
        domain=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main() -> None:
    module = AutobuyAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    result: dict[str, Any] = {"changed": False, "tokens": [], "records": [], "enabled": False,
                              "verification_status": "NotStarted"}
    try:
        domain = domain_of(module.params["domain"])
        client = module.client("ses")
        result = ensure(client, domain, module.params["state"] == "present", module.check_mode)
    except Exception as exc:  # noqa: BLE001 - ModuleFailure as it is, botocore errors with their AWS code
        module.fail_on_error(exc, f"Could not set up DKIM for {module.params['domain']}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
