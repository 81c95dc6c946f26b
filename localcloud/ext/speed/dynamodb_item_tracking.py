"""DynamoDB: items are not kept alive by moto's model registry.

moto records every instance of a ``BaseModel`` subclass in ``cls.instances_tracked``
(for its dashboard, ``/moto-api/data.json``) and only forgets them on
``/moto-api/reset``. A DynamoDB ``Item`` is such a model, and moto creates new ones on
every read: ``Query`` and ``Scan`` copy each matching item, projections build more. So
every item ever returned stayed in memory: 20 more per ``GET /v1/items`` (4 000 a
second at the bench's 200 req/s), and each full garbage collection had to walk them
all, stalling every request for 20 ms, then 90, then 230 ms within a minute of load
(issue 5 §6).

Here ``Item`` instances are created without that registration; the table's items
are referenced by the table as before, and copies are freed when the answer is sent.
Other models keep moto's registry unchanged. The dashboard no longer lists items
(the DynamoDB API does).
"""
from __future__ import annotations

from typing import Any

from moto.dynamodb.models.dynamo_type import Item

__all__ = ["apply"]


def _untracked_new(cls: type[Item], *args: Any, **kwargs: Any) -> Item:
    return object.__new__(cls)


_untracked_new._localcloud = True  # type: ignore[attr-defined]


def apply() -> None:
    current = Item.__dict__.get("__new__")
    if getattr(getattr(current, "__func__", current), "_localcloud", False):
        return
    Item.__new__ = staticmethod(_untracked_new)  # type: ignore[assignment,method-assign]
    Item.instances_tracked.clear()  # type: ignore[attr-defined]
