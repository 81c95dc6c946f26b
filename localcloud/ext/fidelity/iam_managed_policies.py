"""IAM: the AWS managed policies the project attaches exist without loading all of them.

moto loads AWS managed policies only with ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``,
which loads all of them (over a thousand) into every IAM backend. The security tier
attaches ``service-role/AmazonRDSEnhancedMonitoringRole`` (and the backup tier AWS
Backup's two service-role policies), so without
the setting ``AttachRolePolicy`` answers ``NoSuchEntity``. Every IAM backend here
knows the policies of :data:`MANAGED_POLICIES` (from moto's own copy of AWS's
policy data); the full-load setting keeps working as before.
"""
from __future__ import annotations

import json
from typing import Any

#: AWS managed policies (by name) that this project attaches.
MANAGED_POLICIES = ("AmazonRDSEnhancedMonitoringRole",
                    # The backup tier's service role (playbooks/backup.yml).
                    "AWSBackupServiceRolePolicyForBackup",
                    "AWSBackupServiceRolePolicyForRestores")


def _selected_policies(backend: Any) -> list[Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy

    data = json.loads(aws_managed_policies_data)
    return [
        AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data[name])
        for name in MANAGED_POLICIES
        if name in data
    ]


def apply() -> None:
    """Install the gap fill (idempotent)."""
    from moto.iam.models import IAMBackend

    original = IAMBackend._init_aws_policies
    if getattr(original, "_autobuy_provision", False):
        return

    def _init_aws_policies(self: Any) -> list[Any]:
        return original(self) or _selected_policies(self)

    _init_aws_policies._autobuy_provision = True  # type: ignore[attr-defined]
    IAMBackend._init_aws_policies = _init_aws_policies  # type: ignore[method-assign]
