"""The asg_refresh action plugin's progress lines (what a user sees while waiting)."""
from __future__ import annotations

from ansible_collections.autobuy.guard.plugins.action import asg_refresh as action


def test_progress_line_says_what_is_happening() -> None:
    result = {"refresh_id": "r-1", "status": "InProgress", "percentage_complete": 66,
              "instances_to_update": 1, "status_reason": "Replacing instances."}
    assert action.progress_line("localhost", "web", result, 12.4) == (
        "asg_refresh [localhost] web: refresh r-1 InProgress, 66% complete, "
        "1 instance(s) to update, 12s (Replacing instances.)")


def test_a_line_only_when_something_changed() -> None:
    a = {"status": "InProgress", "percentage_complete": 33, "instances_to_update": 2}
    assert action.progress_key(a) == action.progress_key(dict(a))
    assert action.progress_key(a) != action.progress_key({**a, "percentage_complete": 66})
    assert action.progress_key(a) != action.progress_key({**a, "status": "Successful"})
