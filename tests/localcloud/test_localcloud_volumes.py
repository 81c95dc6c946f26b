"""EC2 volumes answer SnapshotId as AWS's DescribeVolumes does: the empty string for a
volume not created from a snapshot, the snapshot's id otherwise (EC2 API reference,
Volume.SnapshotId)."""
from __future__ import annotations

import boto3


def test_a_blank_volume_answers_an_empty_snapshot_id(localcloud: str) -> None:
    ec2 = boto3.client("ec2")
    blank = ec2.create_volume(AvailabilityZone="eu-central-1a", Size=8)["VolumeId"]
    (volume,) = ec2.describe_volumes(VolumeIds=[blank])["Volumes"]
    assert volume["SnapshotId"] == ""

    snapshot = ec2.create_snapshot(VolumeId=blank)["SnapshotId"]
    restored = ec2.create_volume(AvailabilityZone="eu-central-1a", SnapshotId=snapshot)["VolumeId"]
    (volume,) = ec2.describe_volumes(VolumeIds=[restored])["Volumes"]
    assert volume["SnapshotId"] == snapshot
