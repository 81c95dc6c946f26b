"""Fixtures of the plugin unit tests; the helpers live in plugin_harness.py.

The collection loader is set up first, as ansible-playbook sets it up (ansible.cfg's
collections path), so every ``ansible_collections.autobuy.guard...`` import in the
tests and in the plugins goes through it.
"""
from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest
from ansible.plugins.loader import init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
if AnsibleCollectionConfig.collection_finder is None:
    init_plugin_loader([str(HERE.parents[2] / "collections")])

from ansible_collections.autobuy.guard.plugins.module_utils import autobuy_aws  # noqa: E402


@pytest.fixture
def aws_utils() -> ModuleType:
    return autobuy_aws
