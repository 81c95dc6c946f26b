#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: an ECR registry login from GetAuthorizationToken."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecr_authorization_token
short_description: Get a Docker login for Amazon ECR with the host's AWS credentials
description:
  - Calls ECR C(GetAuthorizationToken) with boto3 on the managed host, so an EC2
    instance logs in with its instance role (no key on the host), and returns the
    user name, password and registry endpoint for M(community.docker.docker_login).
  - The password is a secret valid for 12 hours; use C(no_log) on the task.
  - Runs on the managed host (the app role runs it on the instance; needs python3-boto3 there).
options:
  region:
    description: AWS region of the registry.
    type: str
    required: true
  endpoint_url:
    description: ECR endpoint, for a local cloud; empty means AWS.
    type: str
  registry_ids:
    description: Account ids of the registries; default the caller's account.
    type: list
    elements: str
requirements:
  - boto3
author: AutoBuy Guard contributors (@autobuy-guard)
"""

EXAMPLES = r"""
- name: Get an ECR login
  autobuy.guard.ecr_authorization_token:
    region: eu-central-1
  register: ecr
  no_log: true
"""

RETURN = r"""
username:
  description: User name for docker login (always C(AWS)).
  returned: success
  type: str
password:
  description: The registry password (secret).
  returned: success
  type: str
proxy_endpoint:
  description: Registry URL, e.g. https://123456789012.dkr.ecr.eu-central-1.amazonaws.com.
  returned: success
  type: str
expires_at:
  description: When the token expires (ISO 8601).
  returned: success
  type: str
"""

import base64

from ansible.module_utils.basic import AnsibleModule

try:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # pragma: no cover - reported by main()
    boto3 = None


def decode_token(token: str) -> tuple[str, str]:
    """Split ECR's base64 "user:password" token."""
    username, _sep, password = base64.b64decode(token).decode("utf-8").partition(":")
    if not password:
        raise ValueError("ECR returned a malformed authorization token")
    return username, password


def fetch(region: str, endpoint_url: str | None, registry_ids: list[str] | None) -> dict:
    """Ask ECR for one authorization and return the docker login fields."""
    client = boto3.client("ecr", region_name=region, endpoint_url=endpoint_url or None)
    kwargs = {"registryIds": registry_ids} if registry_ids else {}
    data = client.get_authorization_token(**kwargs)["authorizationData"][0]
    username, password = decode_token(data["authorizationToken"])
    return {
        "username": username,
        "password": password,
        "proxy_endpoint": data["proxyEndpoint"],
        "expires_at": data["expiresAt"].isoformat(),
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "region": {"type": "str", "required": True},
            "endpoint_url": {"type": "str"},
            "registry_ids": {"type": "list", "elements": "str"},
        },
        supports_check_mode=True,
    )
    if boto3 is None:
        module.fail_json(msg="ecr_authorization_token needs boto3 on the host (python3-boto3)")
    try:
        login = fetch(module.params["region"], module.params["endpoint_url"],
                      module.params["registry_ids"])
    except (BotoCoreError, ClientError, ValueError) as exc:
        module.fail_json(msg=f"ECR GetAuthorizationToken failed: {exc}")
    module.exit_json(changed=False, **login)


if __name__ == "__main__":
    main()
