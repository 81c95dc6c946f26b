"""Helpers for the local cloud's own tests."""
from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest


def http(url: str, method: str = "GET") -> Any:
    """JSON answer of a local cloud route."""
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


@pytest.fixture
def calls(localcloud: str):
    """Read and reset the local cloud's API call counter."""

    class Calls:
        def reset(self) -> None:
            http(localcloud + "/localcloud/calls/reset", "POST")

        def read(self) -> dict[str, Any]:
            return http(localcloud + "/localcloud/calls")

    return Calls()
