"""Fixtures for the local cloud's own tests.

``calls`` reads/resets the API call counter of the session's local cloud.
``quick_cloud`` starts a second local cloud whose slow resources are quick, for
the tests of the slow-resource behaviour (the session one keeps the defaults
the other areas rely on). ``docker_images`` and ``ami_image`` give the tests that run
containers the Docker engine and the images of ``make images``.
"""
from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from localcloud_helpers import (
    AMI_IMAGE,
    BASE_IMAGE,
    INSTANCE_IMAGE,
    NO_DOCKER,
    build,
    docker_ready,
    has_image,
    start_server,
    stop_server,
)

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


@pytest.fixture(scope="session")
def docker_images() -> Callable[..., None]:
    """``ensure({recipe: image}, parent=BASE_IMAGE)``: the Docker engine answers (started
    when it does not; without it the test skips, which tests/kinds.py turns into a failure
    under CI=true) and each image is built from its recipe (``images/build.sh RECIPE IMAGE
    PARENT``, once a session, a no-op when the image is current) on the base image of
    ``scripts/base-image.sh`` (built when missing), as ``make images`` does."""
    if not docker_ready():
        pytest.skip(NO_DOCKER)  # a failure under CI=true: the rule of tests/kinds.py
    done: set[tuple[str, ...]] = set()

    def step(*args: str) -> None:
        if args not in done:
            build(*args)
            done.add(args)

    def ensure(images: dict[str, str], parent: str = BASE_IMAGE) -> None:
        if not has_image(BASE_IMAGE):
            step("scripts/base-image.sh", "bookworm")
        for recipe, image in images.items():
            step("images/build.sh", recipe, image, parent)

    return ensure


@pytest.fixture(scope="session")
def ami_image(docker_images: Callable[..., None]) -> str:
    """The image the local cloud's Debian 12 AMIs map to (systemd + cloud-init), built on
    the systemd instance image."""
    docker_images({"instance": INSTANCE_IMAGE})
    docker_images({"ami": AMI_IMAGE}, parent=INSTANCE_IMAGE)
    return AMI_IMAGE
