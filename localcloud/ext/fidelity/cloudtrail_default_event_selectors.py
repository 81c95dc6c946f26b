"""CloudTrail: a new trail logs every management event, as its event selectors say.

On AWS a trail created without event selectors logs all management events, read and
write, and ``GetEventSelectors`` says so: one selector ``ReadWriteType: All``,
``IncludeManagementEvents: true``, no data resources. moto 5.2.5 answers an empty list,
so an auditor (prowler's ``cloudtrail_multi_region_enabled_logging_management_events``)
reads a trail that logs nothing. Here a new trail carries AWS's default selector until
``PutEventSelectors`` replaces it.
"""
from __future__ import annotations

from moto.cloudtrail.models import Trail

from localcloud.patching import after_init


def default_selector() -> dict[str, object]:
    return {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
            "ExcludeManagementEventSources": []}


def _log_management_events(trail: Trail) -> None:
    if not trail.event_selectors and not trail.advanced_event_selectors:
        trail.event_selectors = [default_selector()]


def apply() -> None:
    after_init(Trail, __name__, _log_management_events)
