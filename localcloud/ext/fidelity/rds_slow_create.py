"""RDS: new DB instances are ``creating`` for a while, then ``available``.

moto makes an instance ``available`` at once, so a playbook's wait (e.g.
``amazon.aws.rds_instance`` with ``wait: true``) is never exercised and serial
and concurrent converges take the same time. Here an instance is ``creating``
for ``LOCALCLOUD_RDS_CREATE_SECONDS`` (default 8) after CreateDBInstance.
"""
from __future__ import annotations

import functools
from typing import Any

from moto.rds.models import DBInstance

from localcloud import settings
from localcloud.timed import TimedStatus, installed, start_clock


def apply() -> None:
    if installed(DBInstance, "status"):
        return
    original = DBInstance.__init__
    DBInstance.status = TimedStatus("status", "creating", "available")  # type: ignore[assignment]

    @functools.wraps(original)
    def __init__(self: DBInstance, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.status == "available":
            self.status = "creating"
            start_clock(self, settings.rds_create_seconds())

    DBInstance.__init__ = __init__  # type: ignore[method-assign]
