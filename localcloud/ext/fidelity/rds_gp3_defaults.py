"""RDS: gp3 instances report their baseline IOPS and throughput.

On AWS a gp3 DB instance always has ``Iops`` and ``StorageThroughput`` (the
baseline: 3000 IOPS / 125 MiB/s below 400 GiB, 12000 / 500 from 400 GiB for
MySQL/MariaDB/PostgreSQL). moto leaves both out unless given, and
``amazon.aws.rds_instance`` then fails on its second run with
``KeyError: 'StorageThroughput'``.
"""
from __future__ import annotations

from moto.rds.models import DBInstance

from localcloud.patching import after_init

LARGE_GIB = 400


def baseline(allocated_gib: int) -> tuple[int, int]:
    """``(iops, throughput MiB/s)`` AWS gives a gp3 volume of this size."""
    return (12000, 500) if allocated_gib >= LARGE_GIB else (3000, 125)


def add_baseline(instance: DBInstance) -> None:
    if getattr(instance, "storage_type", None) != "gp3":
        return
    iops, throughput = baseline(int(getattr(instance, "allocated_storage", 0) or 0))
    if not instance.iops:
        instance.iops = iops
    if not instance.storage_throughput:
        instance.storage_throughput = throughput


def apply() -> None:
    after_init(DBInstance, __name__, add_baseline)
