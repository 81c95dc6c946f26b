"""core_compat: the controller speed-ups run only on the ansible-core series they were tested with."""
from __future__ import annotations

from ansible.release import __version__ as running

from ansible_collections.autobuy.guard.plugins.plugin_utils import core_compat


def test_the_running_core_is_a_tested_one() -> None:
    """requirements.txt pins the ansible-core these plugins are tested with."""
    assert core_compat.untested("x") is None, running


def test_another_series_is_refused_with_a_reason() -> None:
    assert core_compat.untested("autobuy.guard.warm_local", "2.19.0") is None
    assert core_compat.untested("autobuy.guard.warm_local", "2.19.99") is None
    message = core_compat.untested("autobuy.guard.warm_local", "2.20.0")
    assert message and "autobuy.guard.warm_local" in message and "2.20.0" in message and "2.19" in message
    assert core_compat.untested("autobuy.guard.warm_local", "2.18.5")
