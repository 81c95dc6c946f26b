"""Auto Scaling: group tags come back sorted by key, as AWS returns them.

moto returns them in insertion order. ``amazon.aws.autoscaling_group`` sorts the
tags of the group it read in place and compares that with a fresh describe after its
update, so on moto every re-run of a group with several tags reports ``changed``.
"""
from __future__ import annotations

from moto.autoscaling.models import FakeAutoScalingGroup


def apply() -> None:
    prop = FakeAutoScalingGroup.__dict__["tags"]
    if getattr(prop.fget, "_localcloud", False):
        return

    def tags(self: FakeAutoScalingGroup) -> list[dict[str, str]]:
        return sorted(prop.fget(self), key=lambda tag: tag["Key"])

    tags._localcloud = True  # type: ignore[attr-defined]
    FakeAutoScalingGroup.tags = property(tags, prop.fset)  # type: ignore[assignment]
