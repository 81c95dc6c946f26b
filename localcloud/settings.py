"""Settings of the local cloud, read from the environment.

Every simulated delay is configurable so tests can run fast and waiting logic
stays real. Read at call time, so a test process can change them before it
starts a server.
"""
from __future__ import annotations

import os
import re


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SystemExit(f"localcloud: {name} must be a number, got {raw!r}") from exc
    if value < 0:
        raise SystemExit(f"localcloud: {name} must be >= 0, got {raw!r}")
    return value


def time_scale() -> float:
    """``LOCALCLOUD_TIME_SCALE``: multiplies every simulated instance-refresh wait."""
    return _float("LOCALCLOUD_TIME_SCALE", 0.01)


def rds_create_seconds() -> float:
    """``LOCALCLOUD_RDS_CREATE_SECONDS``: RDS instance ``creating`` -> ``available``."""
    return _float("LOCALCLOUD_RDS_CREATE_SECONDS", 8.0)


def alb_provision_seconds() -> float:
    """``LOCALCLOUD_ALB_PROVISION_SECONDS``: load balancer ``provisioning`` -> ``active``."""
    return _float("LOCALCLOUD_ALB_PROVISION_SECONDS", 5.0)


def acm_validation_seconds() -> float:
    """``LOCALCLOUD_ACM_VALIDATION_SECONDS``: certificate ``PENDING_VALIDATION`` -> ``ISSUED``."""
    return _float("LOCALCLOUD_ACM_VALIDATION_SECONDS", 5.0)


def instance_image() -> str:
    """``LOCALCLOUD_INSTANCE_IMAGE``: one docker image for every instance, whatever its AMI
    ("" = the AMI's image from :func:`ami_images`). Set alone, it also turns containers on."""
    return os.environ.get("LOCALCLOUD_INSTANCE_IMAGE", "").strip()


def twin() -> bool:
    """``LOCALCLOUD_TWIN``: ``on`` runs what the local cloud provisions (a registry container
    behind ECR, a MariaDB container per RDS DB instance; localcloud/twin/), ``off`` (default
    for now) keeps those services as API records only."""
    raw = os.environ.get("LOCALCLOUD_TWIN", "").strip().lower() or "off"
    if raw not in ("on", "off"):
        raise SystemExit(
            f"localcloud: LOCALCLOUD_TWIN must be on or off, got {os.environ['LOCALCLOUD_TWIN']!r}")
    return raw == "on"


def demo_shop() -> bool:
    """``LOCALCLOUD_DEMO_SHOP``: ``on`` (default) runs the demo shop on the twin
    (localcloud/twin/demoshop.py) when the twin is on; ``off`` leaves it out."""
    raw = os.environ.get("LOCALCLOUD_DEMO_SHOP", "").strip().lower() or "on"
    if raw not in ("on", "off"):
        raise SystemExit(f"localcloud: LOCALCLOUD_DEMO_SHOP must be on or off, "
                         f"got {os.environ['LOCALCLOUD_DEMO_SHOP']!r}")
    return raw == "on"


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SystemExit(f"localcloud: {name} must be a TCP port (1-65535), got {raw!r}")
    return int(raw)


def alb_http_port() -> int:
    """``LOCALCLOUD_ALB_HTTP_PORT``: the host's 127.0.0.1 port of the twin load balancer's
    HTTP listener (default 8080)."""
    return _port("LOCALCLOUD_ALB_HTTP_PORT", 8080)


def alb_https_port() -> int:
    """``LOCALCLOUD_ALB_HTTPS_PORT``: the host's 127.0.0.1 port of the twin load balancer's
    HTTPS listener (default 8443)."""
    port = _port("LOCALCLOUD_ALB_HTTPS_PORT", 8443)
    if port == alb_http_port():
        raise SystemExit("localcloud: LOCALCLOUD_ALB_HTTPS_PORT must differ from "
                         f"LOCALCLOUD_ALB_HTTP_PORT (both {port})")
    return port


def web_https_port() -> int:
    """``LOCALCLOUD_WEB_HTTPS_PORT``: the host's 127.0.0.1 port of the twin's CloudFront edge
    (localcloud/twin/edge.py; default 9443; ``0``: any free port); must differ from the
    balancer's ports."""
    raw = os.environ.get("LOCALCLOUD_WEB_HTTPS_PORT", "").strip()
    if raw == "0":  # any free port (the test suite's twins): reported as web_edge.https
        return 0
    port = _port("LOCALCLOUD_WEB_HTTPS_PORT", 9443)
    if port in (alb_http_port(), alb_https_port()):
        raise SystemExit("localcloud: LOCALCLOUD_WEB_HTTPS_PORT must differ from "
                         f"LOCALCLOUD_ALB_HTTP_PORT and LOCALCLOUD_ALB_HTTPS_PORT ({port})")
    return port


def state_dir() -> str:
    """``LOCALCLOUD_STATE_DIR``: pid and log files of ``start``, and the twin's CA and files."""
    return os.environ.get("LOCALCLOUD_STATE_DIR", "").strip() or ".localcloud"


INSTANCE_MODES = ("records", "containers")


def instances() -> str:
    """``LOCALCLOUD_INSTANCES``: ``records`` (instances are API state only) or ``containers``
    (each instance is a systemd container that boots its user data with cloud-init).
    Default ``records``, or ``containers`` when ``LOCALCLOUD_INSTANCE_IMAGE`` is set."""
    raw = os.environ.get("LOCALCLOUD_INSTANCES", "").strip().lower()
    if not raw:
        return "containers" if instance_image() else "records"
    if raw not in INSTANCE_MODES:
        raise SystemExit(
            "localcloud: LOCALCLOUD_INSTANCES must be records or containers, "
            f"got {os.environ['LOCALCLOUD_INSTANCES']!r}")
    return raw


DEFAULT_AMI_IMAGES = "debian-12-*=autobuy/ami:debian12"


def ami_images() -> tuple[tuple[str, str], ...]:
    """``LOCALCLOUD_AMI_IMAGES``: which docker image an AMI boots as, by AMI name:
    comma-separated ``NAME-PATTERN=IMAGE`` (shell-style pattern, first match wins)."""
    raw = os.environ.get("LOCALCLOUD_AMI_IMAGES", "").strip() or DEFAULT_AMI_IMAGES
    pairs = []
    for entry in raw.split(","):
        pattern, sep, image = (part.strip() for part in entry.partition("="))
        if not sep or not pattern or not image or any(c.isspace() for c in pattern + image):
            raise SystemExit(
                "localcloud: LOCALCLOUD_AMI_IMAGES must be comma-separated NAME-PATTERN=IMAGE "
                f"entries (e.g. {DEFAULT_AMI_IMAGES}), got {entry.strip()!r} in {raw!r}")
        pairs.append((pattern, image))
    return tuple(pairs)


def server_threads() -> int:
    """``LOCALCLOUD_SERVER_THREADS``: requests handled at once (idle keep-alive connections
    take none). A long poll (SQS ``WaitTimeSeconds``) holds one for its whole wait, so
    keep it well above the number of concurrent pollers; CPU-bound requests beyond the
    number of cores only share the GIL."""
    raw = os.environ.get("LOCALCLOUD_SERVER_THREADS", "").strip() or "16"
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"localcloud: LOCALCLOUD_SERVER_THREADS must be a whole number >= 1, got {raw!r}")
    return int(raw)


def speed_patches() -> bool:
    """``LOCALCLOUD_SPEED_PATCHES``: ``on`` (default) applies the speed patches
    (``localcloud/ext/speed/``), ``off`` leaves moto's own code there (fidelity only)."""
    raw = os.environ.get("LOCALCLOUD_SPEED_PATCHES", "").strip().lower() or "on"
    if raw not in ("on", "off"):
        raise SystemExit(
            f"localcloud: LOCALCLOUD_SPEED_PATCHES must be on or off, "
            f"got {os.environ['LOCALCLOUD_SPEED_PATCHES']!r}")
    return raw == "on"


# A released version as pip shows it (PEP 440): 5.3.0, 5.3.0rc1, 5.3.0.post1, 5.3.0.dev2+local
_VERSION = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[a-z0-9.]+)?$")


def allowed_moto_version() -> str:
    """``LOCALCLOUD_ALLOW_MOTO_VERSION``: a moto version (e.g. ``5.3.0``) the patches may be
    applied on although they were written against another one ("" = none)."""
    raw = os.environ.get("LOCALCLOUD_ALLOW_MOTO_VERSION", "").strip()
    if raw and not _VERSION.match(raw):
        raise SystemExit(
            "localcloud: LOCALCLOUD_ALLOW_MOTO_VERSION must be the installed moto version "
            f"to allow (e.g. 5.3.0), got {raw!r}")
    return raw


def stripe_prices() -> dict[str, dict]:
    """``LOCALCLOUD_STRIPE_PRICES``: the Stripe stand-in's prices, ``id=amount:currency``
    pairs (amount in the currency's minor unit); default: the API's two price ids."""
    from localcloud.stripe import DEFAULT_PRICES, prices_from

    return prices_from(os.environ.get("LOCALCLOUD_STRIPE_PRICES", "").strip() or DEFAULT_PRICES)


def validate() -> None:
    """Fail fast, with the variable's name, on a bad setting."""
    stripe_prices()
    server_threads()
    speed_patches()
    twin()
    demo_shop()
    alb_http_port()
    alb_https_port()
    web_https_port()
    allowed_moto_version()
    time_scale()
    rds_create_seconds()
    alb_provision_seconds()
    acm_validation_seconds()
    instances()
    ami_images()


def apply_moto_defaults() -> None:
    """Environment moto reads at import time; call before importing moto."""
    validate()
