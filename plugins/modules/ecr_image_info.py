#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which tags of an ECR repository exist (DescribeImages)."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecr_image_info
short_description: Find which image tags an ECR repository holds
description:
  - Calls ECR C(DescribeImages) for the given tags and returns the images found and the
    tags that are missing. Used by playbooks/deploy.yml to refuse a release whose image
    is not in the registry, and by playbooks/release.yml to push only what is missing.
version_added: "1.0.0"
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  repository:
    description: Name of the ECR repository; a missing repository fails the task with its name.
    type: str
    required: true
  image_tags:
    description: Tags to look for.
    type: list
    elements: str
    required: true
extends_documentation_fragment:
  - autobuy.guard.autobuy_aws
notes:
  - Read-only; supports check mode.
"""

EXAMPLES = r"""
- name: Look for the release's image
  autobuy.guard.ecr_image_info:
    repository: taskapp-backend
    image_tags: ["{{ autobuy_image_tag }}"]
  register: image
"""

RETURN = r"""
images:
  description: The images found, one per tag asked for that exists.
  returned: always
  type: list
  elements: dict
  contains:
    tag:
      description: The tag asked for.
      type: str
    digest:
      description: The image's manifest digest.
      type: str
    pushed_at:
      description: When the image was pushed (ISO 8601).
      type: str
missing:
  description: The tags asked for that the repository does not hold.
  returned: always
  type: list
  elements: str
repository_uri:
  description: The repository's URI (registry host and name).
  returned: always
  type: str
"""

from typing import Any  # noqa: E402

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import aws_retry, error_code  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import AutobuyAWSModule  # noqa: E402

retry = aws_retry()


def find_tag(client: Any, repository: str, tag: str) -> dict[str, Any] | None:
    """The image with this tag, or None when the repository does not hold it."""
    try:
        details = retry(client.describe_images)(
            repositoryName=repository, imageIds=[{"imageTag": tag}])["imageDetails"]
    except Exception as exc:  # noqa: BLE001 - only "no such image" means missing
        if error_code(exc) == "ImageNotFoundException":
            return None
        raise
    if not details:
        return None
    pushed = details[0].get("imagePushedAt")
    return {"tag": tag, "digest": details[0]["imageDigest"],
            "pushed_at": pushed.isoformat() if hasattr(pushed, "isoformat") else pushed}


def main() -> None:
    module = AutobuyAWSModule(
        argument_spec=dict(
            repository=dict(type="str", required=True),
            image_tags=dict(type="list", elements="str", required=True),
        ),
        supports_check_mode=True,
    )
    repository = module.params["repository"]
    tags = module.params["image_tags"]
    if not tags or any(not str(t).strip() for t in tags):
        module.fail_json(msg="image_tags must list at least one non-empty tag")
    images: list[dict[str, Any]] = []
    missing: list[str] = []
    try:
        client = module.client("ecr")
        repo = retry(client.describe_repositories)(repositoryNames=[repository])["repositories"][0]
        for tag in tags:
            found = find_tag(client, repository, tag)
            if found is None:
                missing.append(tag)
            else:
                images.append(found)
    except Exception as exc:  # noqa: BLE001 - botocore errors, reported with their AWS code
        module.fail_on_error(exc, f"Could not read the images of ECR repository {repository}")
    module.exit_json(changed=False, images=images, missing=missing, repository_uri=repo["repositoryUri"])


if __name__ == "__main__":
    main()
