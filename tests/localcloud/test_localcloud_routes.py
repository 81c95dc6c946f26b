"""EC2 gap fill: routes to an instance's network interface read back as AWS returns them
(localcloud/ext/fidelity/ec2_route_targets.py), and instances get a public address only
when their subnet maps one or their primary interface asks for one (moto, as on AWS)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

IMAGE = "ami-12c6146b"  # one of moto's built-in images


@pytest.fixture
def vpc(localcloud: str) -> Iterator[tuple[Any, str, str]]:
    ec2 = boto3.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.78.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.78.1.0/24")["Subnet"]["SubnetId"]
    created: list[str] = []
    try:
        yield ec2, vpc_id, subnet
    finally:
        for reservation in ec2.describe_instances(
                Filters=[{"Name": "subnet-id", "Values": [subnet]}])["Reservations"]:
            created += [i["InstanceId"] for i in reservation["Instances"]]
        if created:
            ec2.terminate_instances(InstanceIds=created)
        for table in ec2.describe_route_tables(
                Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]:
            if not any(a.get("Main") for a in table["Associations"]):
                ec2.delete_route_table(RouteTableId=table["RouteTableId"])
        ec2.delete_subnet(SubnetId=subnet)
        ec2.delete_vpc(VpcId=vpc_id)


def _launch(ec2: Any, **kwargs: Any) -> dict[str, Any]:
    (instance,) = ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, **kwargs)["Instances"]
    return ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][0]


def test_a_route_to_an_interface_names_its_instance_and_owner(vpc: tuple[Any, str, str]) -> None:
    ec2, vpc_id, subnet = vpc
    nat = _launch(ec2, SubnetId=subnet)
    eni = nat["NetworkInterfaces"][0]["NetworkInterfaceId"]
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NetworkInterfaceId=eni)
    (route,) = [r for r in ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
                if r["DestinationCidrBlock"] == "0.0.0.0/0"]
    assert (route["NetworkInterfaceId"], route["InstanceId"], route["InstanceOwnerId"]) == (
        eni, nat["InstanceId"], "123456789012")


def test_a_route_to_an_instance_names_its_primary_interface(vpc: tuple[Any, str, str]) -> None:
    ec2, vpc_id, subnet = vpc
    nat = _launch(ec2, SubnetId=subnet)
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", InstanceId=nat["InstanceId"])
    (route,) = [r for r in ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
                if r["DestinationCidrBlock"] == "0.0.0.0/0"]
    assert route["NetworkInterfaceId"] == nat["NetworkInterfaces"][0]["NetworkInterfaceId"]
    assert route["InstanceId"] == nat["InstanceId"]


def test_public_addresses_follow_the_subnet_or_the_interface(vpc: tuple[Any, str, str]) -> None:
    ec2, _, subnet = vpc
    assert "PublicIpAddress" not in _launch(ec2, SubnetId=subnet)
    asked = _launch(ec2, NetworkInterfaces=[
        {"DeviceIndex": 0, "SubnetId": subnet, "AssociatePublicIpAddress": True}])
    assert asked.get("PublicIpAddress")
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    assert _launch(ec2, SubnetId=subnet).get("PublicIpAddress")
    declined = _launch(ec2, NetworkInterfaces=[
        {"DeviceIndex": 0, "SubnetId": subnet, "AssociatePublicIpAddress": False}])
    assert "PublicIpAddress" not in declined
