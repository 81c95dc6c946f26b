"""Fixtures for the local cloud's own tests.

``calls`` reads/resets the API call counter of the session's local cloud.
``quick_cloud`` starts a second local cloud whose slow resources are quick, for
the tests of the slow-resource behaviour (the session one keeps the defaults
the other areas rely on).
"""
from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from localcloud_helpers import start_server, stop_server

QUICK_SETTINGS = {
    "LOCALCLOUD_RDS_CREATE_SECONDS": "1.5",
    "LOCALCLOUD_ALB_PROVISION_SECONDS": "1.5",
    "LOCALCLOUD_ACM_VALIDATION_SECONDS": "1.5",
}


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


@pytest.fixture(scope="module")
def quick_cloud(
    tmp_path_factory: pytest.TempPathFactory, localcloud: str
) -> Iterator[Callable[[str], Any]]:
    """``client(service)`` factory for a local cloud with 1.5 s slow resources."""
    log = tmp_path_factory.mktemp("quick_cloud") / "localcloud.log"
    url, proc = start_server(log, QUICK_SETTINGS)
    try:
        yield lambda service: boto3.client(service, endpoint_url=url)
    finally:
        stop_server(proc)
