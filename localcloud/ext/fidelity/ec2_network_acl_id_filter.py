"""EC2: DescribeNetworkAcls takes the ``network-acl-id`` filter, as AWS documents.

moto answers the filter with ``FilterNotImplementedError`` (HTTP 500), and
``amazon.aws.ec2_vpc_nacl`` uses it whenever it is given ``nacl_id`` (the network tier
empties the VPC's default ACL that way). The filter matches the ACL's id.
"""
from __future__ import annotations

from typing import Any


def apply() -> None:
    """Install the gap fill (idempotent)."""
    from moto.ec2.models.network_acls import NetworkAcl

    original = NetworkAcl.get_filter_value
    if getattr(original, "_localcloud", False):
        return

    def get_filter_value(self: NetworkAcl, filter_name: str, method_name: str | None = None) -> Any:
        if filter_name == "network-acl-id":
            return self.id
        return original(self, filter_name, method_name)

    get_filter_value._localcloud = True  # type: ignore[attr-defined]
    NetworkAcl.get_filter_value = get_filter_value  # type: ignore[method-assign]
