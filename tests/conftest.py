"""Fixtures shared by the whole suite.

``localcloud`` starts one local cloud (moto + localcloud patches) per test
session on a free loopback port and points boto3 and Ansible at it through the
environment. Tests that need a clean slate call ``localcloud_reset``. DynamoDB tests
take ``dynamodb_cloud`` instead, to run against it and against a second local cloud
whose speed patches are off. A test that needs a cloud with settings of its own calls
``own_localcloud``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from localcloud import launch
from localcloud.launch import free_port  # noqa: F401 - the suite's free_port (tests/app)
from tests.kinds import (  # noqa: F401 - hooks: test kinds, their count, the CI skip rule
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_makereport,
    pytest_terminal_summary,
)

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-central-1"


@pytest.fixture(scope="session", autouse=True)
def warm_python_servers() -> Iterator[None]:
    """The playbooks' warm module servers (plugins/connection/warm_local.py) of this
    session live in a private directory and stop with the session."""
    directory = tempfile.mkdtemp(prefix="warm", dir="/tmp")
    saved = os.environ.get("AUTOBUY_WARM_PYTHON_DIR")
    os.environ["AUTOBUY_WARM_PYTHON_DIR"] = directory
    try:
        yield
    finally:
        subprocess.run(["pkill", "-TERM", "-f", f"warm_python.py {directory}/"], check=False)
        if saved is None:
            os.environ.pop("AUTOBUY_WARM_PYTHON_DIR", None)
        else:
            os.environ["AUTOBUY_WARM_PYTHON_DIR"] = saved
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _web_edge_on_any_port() -> Iterator[None]:
    """Every twin a test starts puts its CloudFront edge on a free port of its own
    (LOCALCLOUD_WEB_HTTPS_PORT=0), not on 9443, which `make local` and other checkouts'
    tests may hold; a test that needs a given port passes it in its settings."""
    saved = os.environ.get("LOCALCLOUD_WEB_HTTPS_PORT")
    os.environ["LOCALCLOUD_WEB_HTTPS_PORT"] = "0"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("LOCALCLOUD_WEB_HTTPS_PORT", None)
        else:
            os.environ["LOCALCLOUD_WEB_HTTPS_PORT"] = saved


#: The session servers' twin settings, pinned (tests that need the twin start their own).
API_STATE_ONLY = {"LOCALCLOUD_TWIN": "off", "LOCALCLOUD_INSTANCES": "records"}


@pytest.fixture(scope="session")
def localcloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a local cloud running for this test session: API state only (no twin, no
    container instances, whatever the shell says — `make local` turns those on for itself),
    so the many tests that read and write API state stay fast."""
    cloud = launch.start(settings=API_STATE_ONLY,
                         log=tmp_path_factory.mktemp("localcloud") / "localcloud.log")
    url = cloud.url
    saved = {k: os.environ.get(k) for k in _AWS_ENV}
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)
    os.environ.update(_aws_env(url))
    try:
        yield url
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        cloud.stop()


@pytest.fixture(scope="session")
def localcloud_speed_off(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a second local cloud with ``LOCALCLOUD_SPEED_PATCHES=off`` (fidelity only)."""
    log = tmp_path_factory.mktemp("localcloud_speed_off") / "localcloud.log"
    cloud = launch.start(settings={**API_STATE_ONLY, "LOCALCLOUD_SPEED_PATCHES": "off"}, log=log)
    try:
        with urllib.request.urlopen(cloud.url + "/localcloud/patches", timeout=10) as resp:
            applied = json.load(resp)["applied"]
        assert applied and {p["kind"] for p in applied} == {"fidelity"}, applied
        yield cloud.url
    finally:
        cloud.stop()


@pytest.fixture(params=["speed-on", "speed-off"])
def dynamodb_cloud(request: pytest.FixtureRequest, localcloud: str,
                   monkeypatch: pytest.MonkeyPatch) -> str:
    """URL of the session's local cloud, then of one with its speed patches off: a DynamoDB
    test run both ways shows the speed patches change nothing it checks. The test's
    ``AWS_ENDPOINT_URL`` points at the cloud of the run."""
    if request.param == "speed-on":
        return localcloud
    url = request.getfixturevalue("localcloud_speed_off")
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    return url


_AWS_ENV = (
    "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_SESSION_TOKEN", "AWS_PROFILE",
)


@pytest.fixture
def own_localcloud(localcloud: str, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, str]], str]]:
    """Call with settings to start a local cloud of the test's own (``API_STATE_ONLY`` plus
    those settings, on a free loopback port) for a test that needs settings the session's
    cloud does not have (e.g. ``LOCALCLOUD_TIME_SCALE``). The call returns its URL and points
    the test's AWS environment (boto3, Ansible modules) at it; the environment goes back to
    the session's cloud and the cloud stops when the test ends."""
    clouds: list[launch.LocalCloud] = []

    def start(settings: dict[str, str]) -> str:
        cloud = launch.start(settings={**API_STATE_ONLY, **settings},
                             log=tmp_path / f"localcloud-{len(clouds) + 1}.log")
        clouds.append(cloud)
        for key, value in _aws_env(cloud.url).items():
            monkeypatch.setenv(key, value)
        return cloud.url

    try:
        yield start
    finally:
        for cloud in clouds:
            cloud.stop()


def _aws_env(url: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "localcloud",
        "AWS_SECRET_ACCESS_KEY": "localcloud",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }


@pytest.fixture
def localcloud_reset(localcloud: str):
    """Call to wipe every resource of the local cloud (moto's reset)."""

    def reset() -> None:
        req = urllib.request.Request(localcloud + "/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).close()

    return reset
