"""EC2 gap fill: instances carry their launch template's metadata options, block devices
and volume tags (Auto Scaling's too), and new volumes follow EBS encryption by default.

Expected values are the launch template's own (what AWS documents an instance launched
from it gets), not what the local cloud happens to answer.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

DEBIAN = "136693071363"
ZONE = "eu-central-1a"


def _debian_image() -> dict[str, Any]:
    images = boto3.client("ec2").describe_images(
        Owners=[DEBIAN], Filters=[{"Name": "name", "Values": ["debian-12-amd64-*"]}])["Images"]
    return max(images, key=lambda i: i["CreationDate"])


@pytest.fixture
def template(localcloud: str) -> Iterator[dict[str, Any]]:
    image = _debian_image()
    ec2 = boto3.client("ec2")
    name = f"lt-{uuid.uuid4().hex[:8]}"
    profile = boto3.client("iam").create_instance_profile(InstanceProfileName=name)[
        "InstanceProfile"]
    ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={
        "ImageId": image["ImageId"], "InstanceType": "t3.micro",
        "IamInstanceProfile": {"Name": name},
        "MetadataOptions": {"HttpEndpoint": "enabled", "HttpTokens": "required",
                            "HttpPutResponseHopLimit": 2},
        "BlockDeviceMappings": [{"DeviceName": image["RootDeviceName"], "Ebs": {
            "VolumeSize": 12, "VolumeType": "gp3", "Encrypted": True,
            "DeleteOnTermination": True}}],
        "TagSpecifications": [
            {"ResourceType": "instance", "Tags": [{"Key": "Role", "Value": "backend"}]},
            {"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": name},
                                                {"Key": "Project", "Value": "autobuy"}]}],
    })
    yield {"name": name, "image": image, "profile": profile["Arn"]}
    ec2.delete_launch_template(LaunchTemplateName=name)
    boto3.client("iam").delete_instance_profile(InstanceProfileName=name)


def _volumes(instance: dict[str, Any]) -> dict[str, dict[str, Any]]:
    ids = [m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]]
    volumes = boto3.client("ec2").describe_volumes(VolumeIds=ids)["Volumes"]
    return {v["Attachments"][0]["Device"]: v for v in volumes}


def _check_from_template(instance: dict[str, Any], template: dict[str, Any]) -> None:
    root = template["image"]["RootDeviceName"]
    assert instance["RootDeviceName"] == root
    options = instance["MetadataOptions"]
    assert (options["HttpTokens"], options["HttpPutResponseHopLimit"],
            options["HttpEndpoint"]) == ("required", 2, "enabled")
    volumes = _volumes(instance)
    assert list(volumes) == [root]  # the template's root volume, no default one beside it
    volume = volumes[root]
    assert (volume["Size"], volume["VolumeType"], volume["Encrypted"]) == (12, "gp3", True)
    assert volume["KmsKeyId"]
    tags = {t["Key"]: t["Value"] for t in volume.get("Tags", [])}
    assert tags == {"Name": template["name"], "Project": "autobuy"}
    (association,) = boto3.client("ec2").describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance["InstanceId"]]}])[
        "IamInstanceProfileAssociations"]
    assert association["IamInstanceProfile"]["Arn"] == template["profile"]


def test_run_instances_from_a_template_takes_its_settings(template: dict[str, Any]) -> None:
    ec2 = boto3.client("ec2")
    reservation = ec2.run_instances(MinCount=1, MaxCount=1,
                                    LaunchTemplate={"LaunchTemplateName": template["name"]})
    instance_id = reservation["Instances"][0]["InstanceId"]
    try:
        instance = ec2.describe_instances(InstanceIds=[instance_id])[
            "Reservations"][0]["Instances"][0]
        _check_from_template(instance, template)
    finally:
        ec2.terminate_instances(InstanceIds=[instance_id])


def _first_instance(group: str) -> dict[str, Any]:
    """The first instance the Auto Scaling group launches, as DescribeInstances shows it."""
    asg, ec2 = boto3.client("autoscaling"), boto3.client("ec2")
    deadline = time.monotonic() + 30
    while not (members := asg.describe_auto_scaling_groups(
            AutoScalingGroupNames=[group])["AutoScalingGroups"][0]["Instances"]):
        assert time.monotonic() < deadline, "the group launched no instance"
        time.sleep(0.2)
    return ec2.describe_instances(InstanceIds=[members[0]["InstanceId"]])[
        "Reservations"][0]["Instances"][0]


def test_auto_scaling_instances_take_the_template_settings(template: dict[str, Any]) -> None:
    asg = boto3.client("autoscaling")
    name = f"asg-{uuid.uuid4().hex[:8]}"
    asg.create_auto_scaling_group(
        AutoScalingGroupName=name, MinSize=1, MaxSize=1, DesiredCapacity=1,
        AvailabilityZones=[ZONE],
        LaunchTemplate={"LaunchTemplateName": template["name"], "Version": "$Latest"},
        Tags=[{"Key": "Stack", "Value": "audit", "PropagateAtLaunch": True}])
    try:
        instance = _first_instance(name)
        _check_from_template(instance, template)
        tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
        assert tags["Role"] == "backend" and tags["Stack"] == "audit"
    finally:
        asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)


def test_explicit_parameters_win_over_the_template(template: dict[str, Any]) -> None:
    ec2 = boto3.client("ec2")
    reservation = ec2.run_instances(
        MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateName": template["name"]},
        MetadataOptions={"HttpTokens": "optional", "HttpPutResponseHopLimit": 1},
        BlockDeviceMappings=[{"DeviceName": "/dev/xvdb", "Ebs": {"VolumeSize": 3}}])
    instance = reservation["Instances"][0]
    try:
        described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])[
            "Reservations"][0]["Instances"][0]
        assert described["MetadataOptions"]["HttpTokens"] == "optional"
        assert described["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
        assert list(_volumes(described)) == ["/dev/xvdb"]
    finally:
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])


def test_without_a_template_the_root_volume_sits_at_the_image_root_device(
        localcloud: str) -> None:
    image = _debian_image()
    ec2 = boto3.client("ec2")
    instance = ec2.run_instances(ImageId=image["ImageId"], MinCount=1, MaxCount=1)[
        "Instances"][0]
    try:
        described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])[
            "Reservations"][0]["Instances"][0]
        assert list(_volumes(described)) == [image["RootDeviceName"]]
    finally:
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])


@pytest.fixture
def encryption_by_default(localcloud: str) -> Iterator[None]:
    ec2 = boto3.client("ec2")
    ec2.enable_ebs_encryption_by_default()
    try:
        yield
    finally:
        ec2.disable_ebs_encryption_by_default()


def test_new_volumes_are_encrypted_by_default_when_the_region_says_so(
        encryption_by_default: None) -> None:
    ec2 = boto3.client("ec2")
    volume = ec2.create_volume(AvailabilityZone=ZONE, Size=1)
    instance = ec2.run_instances(ImageId=_debian_image()["ImageId"], MinCount=1,
                                 MaxCount=1)["Instances"][0]
    try:
        assert volume["Encrypted"] is True and volume["KmsKeyId"]
        root = list(_volumes(ec2.describe_instances(InstanceIds=[instance["InstanceId"]])[
            "Reservations"][0]["Instances"][0]).values())[0]
        assert root["Encrypted"] is True
    finally:
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
        ec2.delete_volume(VolumeId=volume["VolumeId"])


def test_volumes_stay_unencrypted_with_encryption_by_default_off(localcloud: str) -> None:
    ec2 = boto3.client("ec2")
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    volume = ec2.create_volume(AvailabilityZone=ZONE, Size=1)
    try:
        assert volume["Encrypted"] is False
    finally:
        ec2.delete_volume(VolumeId=volume["VolumeId"])


@pytest.mark.parametrize(("subnet_maps", "interface_asks"), [(True, False), (False, True)])
def test_auto_scaling_instances_take_the_template_network_interface(
        localcloud: str, subnet_maps: bool, interface_asks: bool) -> None:
    """A template whose interface names the security groups and asks (or declines) a public
    address: the group's instances get those groups, and a public address exactly when the
    interface asks, whatever the subnet maps (AWS: the interface's setting wins)."""
    ec2, asg = boto3.client("ec2"), boto3.client("autoscaling")
    name = f"nic-{uuid.uuid4().hex[:8]}"
    vpc = ec2.create_vpc(CidrBlock="10.79.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.79.1.0/24", AvailabilityZone=ZONE)[
        "Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": subnet_maps})
    group = ec2.create_security_group(GroupName=name, Description="web", VpcId=vpc)["GroupId"]
    ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={
        "ImageId": _debian_image()["ImageId"], "InstanceType": "t3.micro",
        "NetworkInterfaces": [{"DeviceIndex": 0, "Groups": [group], "DeleteOnTermination": True,
                               "AssociatePublicIpAddress": interface_asks}]})
    asg.create_auto_scaling_group(
        AutoScalingGroupName=name, MinSize=1, MaxSize=1, DesiredCapacity=1,
        VPCZoneIdentifier=subnet, LaunchTemplate={"LaunchTemplateName": name, "Version": "$Latest"})
    try:
        instance = _first_instance(name)
        assert [g["GroupId"] for g in instance["SecurityGroups"]] == [group]
        assert instance["SubnetId"] == subnet
        assert bool(instance.get("PublicIpAddress")) is interface_asks
    finally:
        asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
        ec2.delete_launch_template(LaunchTemplateName=name)
        for reservation in ec2.describe_instances(
                Filters=[{"Name": "subnet-id", "Values": [subnet]}])["Reservations"]:
            ec2.terminate_instances(InstanceIds=[i["InstanceId"] for i in reservation["Instances"]])
        ec2.delete_security_group(GroupId=group)
        ec2.delete_subnet(SubnetId=subnet)
        ec2.delete_vpc(VpcId=vpc)
