"""Fixtures of the plugin unit tests; the helpers live in plugin_harness.py."""
from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from plugin_harness import load_module_utils  # noqa: E402


@pytest.fixture
def aws_utils() -> ModuleType:
    return load_module_utils()
