"""RDS: gp3 instances report their baseline IOPS and throughput.

On AWS a gp3 DB instance always has ``Iops`` and ``StorageThroughput`` (the
baseline: 3000 IOPS / 125 MiB/s below 400 GiB, 12000 / 500 from 400 GiB for
MySQL/MariaDB/PostgreSQL). moto leaves both out unless given, and
``amazon.aws.rds_instance`` then fails on its second run with
``KeyError: 'StorageThroughput'``.
"""
from __future__ import annotations

import functools
from typing import Any

from moto.rds.models import DBInstance

LARGE_GIB = 400


def baseline(allocated_gib: int) -> tuple[int, int]:
    """``(iops, throughput MiB/s)`` AWS gives a gp3 volume of this size."""
    return (12000, 500) if allocated_gib >= LARGE_GIB else (3000, 125)


def apply() -> None:
    original = DBInstance.__init__
    if getattr(original, "_localcloud_gp3", False):
        return

    @functools.wraps(original)
    def __init__(self: DBInstance, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if getattr(self, "storage_type", None) != "gp3":
            return
        iops, throughput = baseline(int(getattr(self, "allocated_storage", 0) or 0))
        if not self.iops:
            self.iops = iops
        if not self.storage_throughput:
            self.storage_throughput = throughput

    __init__._localcloud_gp3 = True  # type: ignore[attr-defined]
    DBInstance.__init__ = __init__  # type: ignore[method-assign]
