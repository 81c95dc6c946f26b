"""CloudTrail: ``DeleteTrail`` by ARN deletes the trail; a missing trail is an error.

On AWS ``DeleteTrail``'s ``Name`` is the trail's name or its ARN, and a trail that does
not exist answers ``TrailNotFoundException``. moto 5.2.5 looks the value up among the
names only and answers success whatever it is given, so ``amazon.aws.cloudtrail`` (which
deletes by ARN) reports the trail deleted while it stays, logging (teardown.yml).
Here the trail is found as ``GetTrail`` finds it, by name or ARN, and deleted with its
tags; a missing one is ``TrailNotFoundException``.
"""
from __future__ import annotations

from typing import Any

from moto.cloudtrail.models import CloudTrailBackend

from localcloud import patching


def _by_name_or_arn(original: Any) -> Any:
    def delete_trail(self: CloudTrailBackend, name: str) -> None:
        trail = self.get_trail(name)  # TrailNotFoundException when missing
        self.tagging_service.delete_all_tags_for_resource(trail.arn)
        original(self, trail.trail_name)
    return delete_trail


def apply() -> None:
    patching.wrap(CloudTrailBackend, "delete_trail", _by_name_or_arn)
