"""Gap fills found by the provisioning playbooks (one file, each fill self-contained).

1. AWS managed policies. moto loads them only with ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``,
   which loads all of them (over a thousand) into every IAM backend. The security tier
   attaches exactly one, ``service-role/AmazonRDSEnhancedMonitoringRole``, so without
   the setting ``AttachRolePolicy`` answers ``NoSuchEntity``. Every IAM backend here
   knows the policies of :data:`MANAGED_POLICIES` (from moto's own copy of AWS's
   policy data); the full-load setting keeps working as before.
2. User data of launch template versions. ``CreateLaunchTemplate`` wraps
   ``UserData`` in moto's ``Base64EncodedString`` but ``CreateLaunchTemplateVersion``
   stores the raw string; an Auto Scaling group launching from such a version then
   fails with ``AssertionError`` (HTTP 500) in ``LaunchTemplateVersion.user_data``.
   Every new version's user data is parsed the way ``CreateLaunchTemplate`` does
   (invalid base64 answers ``InvalidUserData.Malformed`` as on AWS).
"""
from __future__ import annotations

import functools
import json
from typing import Any

#: AWS managed policies (by name) that this project attaches.
MANAGED_POLICIES = ("AmazonRDSEnhancedMonitoringRole",)


def _selected_policies(backend: Any) -> list[Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy

    data = json.loads(aws_managed_policies_data)
    return [
        AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data[name])
        for name in MANAGED_POLICIES
        if name in data
    ]


def _apply_managed_policies() -> None:
    from moto.iam.models import IAMBackend

    original = IAMBackend._init_aws_policies
    if getattr(original, "_autobuy_provision", False):
        return

    def _init_aws_policies(self: Any) -> list[Any]:
        return original(self) or _selected_policies(self)

    _init_aws_policies._autobuy_provision = True  # type: ignore[attr-defined]
    IAMBackend._init_aws_policies = _init_aws_policies  # type: ignore[method-assign]


def _apply_launch_template_version_user_data() -> None:
    from moto.ec2.models.launch_templates import LaunchTemplate
    from moto.ec2.utils import parse_user_data

    original = LaunchTemplate.create_version
    if getattr(original, "_autobuy_provision", False):
        return

    @functools.wraps(original)
    def create_version(self: Any, data: dict[str, Any], description: str) -> Any:
        if isinstance(data.get("UserData"), str):
            data = {**data, "UserData": parse_user_data(data["UserData"])}
        return original(self, data, description)

    create_version._autobuy_provision = True  # type: ignore[attr-defined]
    LaunchTemplate.create_version = create_version  # type: ignore[method-assign]


def apply() -> None:
    """Install every gap fill of this file (idempotent)."""
    _apply_managed_policies()
    _apply_launch_template_version_user_data()
