"""Gap fills found by the provisioning playbooks (one file, two small fidelity gaps).

1. AWS managed policies. moto loads them only with
   ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``, which loads all of them (over a thousand)
   into every IAM backend. The security tier attaches exactly one,
   ``service-role/AmazonRDSEnhancedMonitoringRole``, so without the setting
   ``AttachRolePolicy`` answers ``NoSuchEntity``. Every IAM backend here knows the
   policies of :data:`MANAGED_POLICIES` (from moto's own copy of AWS's data); the
   full-load setting keeps working as before.
2. gp3 baseline of RDS. AWS describes a gp3 instance under 400 GiB with its included
   baseline (``Iops`` 3000, ``StorageThroughput`` 125); moto leaves both out, and
   ``amazon.aws.rds_instance`` then fails on every re-run with ``KeyError:
   'StorageThroughput'``. Instances created without them get the baseline.
"""
from __future__ import annotations

import functools
import json
from typing import Any

#: AWS managed policies (by name) that this project attaches.
MANAGED_POLICIES = ("AmazonRDSEnhancedMonitoringRole",)
GP3_BASELINE_IOPS = 3000
GP3_BASELINE_THROUGHPUT = 125


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


def _apply_gp3_baseline() -> None:
    from moto.rds.models import DBInstance

    original = DBInstance.__init__
    if getattr(original, "_autobuy_provision", False):
        return

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if getattr(self, "storage_type", None) == "gp3" and (self.allocated_storage or 0) < 400:
            if not self.storage_throughput:
                self.storage_throughput = GP3_BASELINE_THROUGHPUT
            if not getattr(self, "iops", None):
                self.iops = GP3_BASELINE_IOPS

    __init__._autobuy_provision = True  # type: ignore[attr-defined]
    DBInstance.__init__ = __init__  # type: ignore[method-assign]


def apply() -> None:
    """Install both gap fills (idempotent)."""
    _apply_managed_policies()
    _apply_gp3_baseline()
