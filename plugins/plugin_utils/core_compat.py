# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which ansible-core versions the controller speed-ups were tested with.

The ``warm_local`` connection parses the shell command lines ansible-core builds to
run a module, and the ``ansiballz_cache`` callback replaces the run's private payload
cache directory: both rely on ansible-core internals that may change in any minor
release. On an ansible-core series not listed here they stay off and Ansible's stock
behaviour runs (plain ``local``, payloads built in the run), with one warning.
"""
from __future__ import annotations

from typing import Optional

from ansible.release import __version__ as ANSIBLE_CORE_VERSION

#: ansible-core series (major.minor) the speed-ups were tested with (tests/unit/plugins,
#: tests/integration/plugins). Add one only after those tests pass on it.
TESTED_SERIES = frozenset({"2.19"})


def series(version: str) -> str:
    """``2.19.14`` -> ``2.19``."""
    return ".".join(version.split(".")[:2])


def untested(plugin: str, version: str = ANSIBLE_CORE_VERSION) -> Optional[str]:
    """None when ``version`` is a tested series, else the warning to show (the plugin
    then falls back to the stock behaviour)."""
    if series(version) in TESTED_SERIES:
        return None
    return (f"{plugin}: not tested with ansible-core {version} (tested: "
            f"{', '.join(sorted(TESTED_SERIES))}); using ansible-core's stock behaviour instead")
