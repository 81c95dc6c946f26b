"""EC2: DescribeNetworkAcls takes the ``network-acl-id`` filter, as AWS documents.

moto answers the filter with ``FilterNotImplementedError`` (HTTP 500), and
``amazon.aws.ec2_vpc_nacl`` uses it whenever it is given ``nacl_id`` (the network tier
empties the VPC's default ACL that way). The filter matches the ACL's id.
"""
from __future__ import annotations

from typing import Any

from localcloud import patching


def _by_id(original: Any) -> Any:
    def get_filter_value(self: Any, filter_name: str, method_name: str | None = None) -> Any:
        if filter_name == "network-acl-id":
            return self.id
        return original(self, filter_name, method_name)

    return get_filter_value


def apply() -> None:
    """Install the gap fill (idempotent)."""
    from moto.ec2.models.network_acls import NetworkAcl

    patching.wrap(NetworkAcl, "get_filter_value", _by_id)
