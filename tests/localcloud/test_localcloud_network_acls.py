"""EC2 gap fill: DescribeNetworkAcls filtered by network-acl-id."""
from __future__ import annotations

import boto3


def test_network_acls_filter_by_their_id(localcloud: str) -> None:
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    try:
        acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        found = ec2.describe_network_acls(
            Filters=[{"Name": "network-acl-id", "Values": [acl]}])["NetworkAcls"]
        assert [a["NetworkAclId"] for a in found] == [acl]
        ec2.delete_network_acl(NetworkAclId=acl)
    finally:
        ec2.delete_vpc(VpcId=vpc)
