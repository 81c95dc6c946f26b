"""ELBv2: the default load balancer attributes AWS reports.

moto starts a load balancer with five attributes; ``amazon.aws.elb_application_lb``
reads others (e.g. ``routing.http.drop_invalid_header_fields.enabled``) and fails
with ``KeyError`` when they are missing. This adds AWS's documented defaults for
application load balancers; attributes set later by ModifyLoadBalancerAttributes win.
"""
from __future__ import annotations

from moto.elbv2.models import FakeLoadBalancer

from localcloud.patching import after_init

APPLICATION_DEFAULTS = {
    "access_logs.s3.enabled": "false",
    "access_logs.s3.bucket": "",
    "access_logs.s3.prefix": "",
    "connection_logs.s3.enabled": "false",
    "connection_logs.s3.bucket": "",
    "connection_logs.s3.prefix": "",
    "health_check_logs.s3.enabled": "false",
    "client_keep_alive.seconds": "3600",
    "deletion_protection.enabled": "false",
    "idle_timeout.timeout_seconds": "60",
    "load_balancing.cross_zone.enabled": "true",
    "routing.http.desync_mitigation_mode": "defensive",
    "routing.http.drop_invalid_header_fields.enabled": "false",
    "routing.http.preserve_host_header.enabled": "false",
    "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
    "routing.http.xff_client_port.enabled": "false",
    "routing.http.xff_header_processing.mode": "append",
    "routing.http2.enabled": "true",
    "waf.fail_open.enabled": "false",
    "zonal_shift.config.enabled": "false",
}
NETWORK_DEFAULTS = {
    "access_logs.s3.enabled": "false",
    "dns_record.client_routing_policy": "any_availability_zone",
    "zonal_shift.config.enabled": "false",
}


def add_defaults(lb: FakeLoadBalancer) -> None:
    defaults = APPLICATION_DEFAULTS if lb.type == "application" else NETWORK_DEFAULTS
    for key, value in defaults.items():
        if key == "load_balancing.cross_zone.enabled":
            lb.attrs[key] = value  # moto says false; ALBs are always cross-zone
        lb.attrs.setdefault(key, value)


def apply() -> None:
    after_init(FakeLoadBalancer, __name__, add_defaults)
