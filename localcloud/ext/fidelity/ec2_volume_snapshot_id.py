"""EC2: a volume not created from a snapshot answers ``SnapshotId: ""``, as on AWS.

AWS's ``DescribeVolumes`` always carries ``SnapshotId``: the empty string for a volume
not created from a snapshot. moto 5.2.5 leaves the field out of such a volume (an
instance's root volume included), and ``amazon.aws.ec2_vol_info`` then fails with
``KeyError: 'snapshot_id'`` on any listing that holds one (playbooks/tasks/backup_volumes.yml
lists the instances' volumes). Here the field is the empty string. Difference left: on
AWS a root volume launched from an image names the image's snapshot; here it is empty
too.
"""
from __future__ import annotations

from typing import Any

from moto.ec2.models.elastic_block_store import Volume

from localcloud.patching import after_init


def _empty_snapshot_id(volume: Any) -> None:
    if volume.snapshot_id is None:
        volume.snapshot_id = ""


def apply() -> None:
    """Install the gap fill (idempotent)."""
    after_init(Volume, __name__, _empty_snapshot_id)
