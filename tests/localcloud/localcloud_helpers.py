"""Helpers of the local cloud's tests: start and stop extra local cloud servers
(through ``localcloud.launch``, the one starter of the CLI, the suite and the benches);
the Docker engine and the images of ``make images`` for the tests that run containers;
waiting for a condition."""
from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localcloud.launch import ROOT, free_port, start, stop_process  # noqa: F401 - re-exported


def start_server(log: Path, settings: dict[str, str]) -> tuple[str, subprocess.Popen]:
    """Start ``python -m localcloud serve`` with extra settings; (url, process)."""
    cloud = start(settings=settings, log=log)
    return cloud.url, cloud.process


def stop_server(proc: subprocess.Popen) -> None:
    stop_process(proc, timeout=30)


# -- Docker: the engine, the images, waiting -------------------------------------------
# The fixtures ``docker_images`` and ``ami_image`` (conftest.py) are how a test asks for them.

BASE_IMAGE = "autobuy/debian:bookworm"
INSTANCE_IMAGE = "autobuy/instance:debian12"
AMI_IMAGE = "autobuy/ami:debian12"
NO_DOCKER = "the Docker engine is not available (scripts/system-deps.sh docker)"


def docker_ready() -> bool:
    """Whether the Docker engine answers, after starting it (scripts/system-deps.sh docker)
    when it did not."""
    def answers() -> bool:
        try:
            return subprocess.run(["docker", "info"], capture_output=True, timeout=20,
                                  check=False).returncode == 0
        except (FileNotFoundError, subprocess.TimeoutExpired):
            return False

    if answers():
        return True
    subprocess.run([str(ROOT / "scripts/system-deps.sh"), "docker"], capture_output=True,
                   check=False, timeout=600)
    return answers()


def has_image(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True,
                          check=False, timeout=60).returncode == 0


def build(*step: str) -> None:
    """Run one image recipe of ``make images`` (a no-op when the image is current)."""
    done = subprocess.run([str(ROOT / step[0]), *step[1:]], cwd=ROOT, capture_output=True,
                          text=True, timeout=1200, check=False)
    assert done.returncode == 0, f"{' '.join(step)} failed:\n{done.stderr[-3000:]}"


def until(predicate: Callable[[], Any], timeout: float = 60, what: str = "",
          interval: float = 0.3) -> Any:
    """Poll ``predicate`` until it returns something true (returned), failing after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what or predicate}"
        time.sleep(interval)


def issued_certificate(acm: Any, route53: Any, zone_id: str, domain: str) -> str:
    """The ARN of an ACM certificate for ``domain``, DNS-validated through the zone and
    waited for until ``ISSUED`` (on the twin: signed by its CA)."""
    cert = acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"]
    record = until(lambda: acm.describe_certificate(CertificateArn=cert)["Certificate"]
                   ["DomainValidationOptions"][0].get("ResourceRecord"), 30, "validation record")
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": record["Name"], "Type": "CNAME", "TTL": 60,
            "ResourceRecords": [{"Value": record["Value"]}]}}]})
    until(lambda: acm.describe_certificate(CertificateArn=cert)["Certificate"]["Status"]
          == "ISSUED", 30, "the certificate to be issued")
    return str(cert)
