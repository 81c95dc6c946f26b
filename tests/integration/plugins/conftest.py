"""Fixtures of the playbook-level plugin tests; helpers live in playbook_harness.py."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from playbook_harness import calls  # noqa: E402


@pytest.fixture
def counter(localcloud: str) -> Any:
    """calls made since the fixture was created: counter()['GetSecretValue']."""
    before = {s: calls(localcloud, s) for s in ("secretsmanager", "autoscaling")}

    def since(service: str = "secretsmanager") -> dict[str, int]:
        now = calls(localcloud, service)
        return {k: v - before[service].get(k, 0) for k, v in now.items() if v != before[service].get(k, 0)}

    return since
