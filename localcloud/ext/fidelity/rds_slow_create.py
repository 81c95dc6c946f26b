"""RDS: new DB instances are ``creating`` for a while, then ``available``.

moto makes an instance ``available`` at once, so a playbook's wait (e.g.
``amazon.aws.rds_instance`` with ``wait: true``) is never exercised and serial
and concurrent converges take the same time. Here an instance is ``creating``
for ``LOCALCLOUD_RDS_CREATE_SECONDS`` (default 8) after CreateDBInstance.
"""
from __future__ import annotations

from moto.rds.models import DBInstance

from localcloud import settings
from localcloud.timed import wait_after_create


def apply() -> None:
    wait_after_create(DBInstance, "status", "creating", "available",
                      settings.rds_create_seconds, created="available")
