"""RDS: a MySQL/MariaDB DB parameter group lists its family's parameters; a missing one
is an error.

On AWS ``DescribeDBParameters`` of a new group lists every parameter of the family with
its metadata (``engine-default`` source, no value until set). moto lists only the
parameters a ``ModifyDBParameterGroup`` has set, so ``amazon.aws.rds_instance_param_group``
refuses to set one ("not an available parameter"). The parameters the stack sets are
added here with AWS's metadata for the family; the rest of the family stays unlisted.

``DescribeDBParameterGroups`` of a name that does not exist answers
``DBParameterGroupNotFound`` as on AWS (moto answers an empty list, on which
``amazon.aws.rds_instance_param_group`` fails with ``IndexError``).
"""
from __future__ import annotations

import functools
from typing import Any

from moto.rds.exceptions import DBParameterGroupNotFoundError
from moto.rds.models import DBParameterGroup, RDSBackend

from localcloud.patching import after_init

FAMILIES = ("mysql", "mariadb")

# As DescribeDBParameters reports them for mysql8.4 / mariadb10.11 (AWS documentation).
PARAMETERS: dict[str, dict[str, Any]] = {
    "require_secure_transport": {
        "Description": "When this option is enabled, connections attempted using insecure "
                       "transport will be rejected.",
        "Source": "engine-default", "ApplyType": "dynamic", "DataType": "boolean",
        "AllowedValues": "0,1", "IsModifiable": True, "ApplyMethod": "pending-reboot"},
}


def add_defaults(group: DBParameterGroup) -> None:
    if not str(group.family or "").startswith(FAMILIES):
        return
    for name, metadata in PARAMETERS.items():
        if name not in group.parameters:
            group.parameters[name] = {"ParameterName": name, **metadata}


def apply() -> None:
    after_init(DBParameterGroup, __name__, add_defaults)
    describe = RDSBackend.describe_db_parameter_groups
    if getattr(describe, "_localcloud", False):
        return

    @functools.wraps(describe)
    def describe_db_parameter_groups(self: RDSBackend, kwargs: dict[str, Any]) -> Any:
        found = describe(self, kwargs)
        name = kwargs.get("db_parameter_group_name")
        if name and not found:
            raise DBParameterGroupNotFoundError(name)
        return found

    describe_db_parameter_groups._localcloud = True  # type: ignore[attr-defined]
    RDSBackend.describe_db_parameter_groups = describe_db_parameter_groups  # type: ignore[method-assign]
