"""ELBv2: the default target group attributes AWS reports.

moto's target groups start with a partial attribute set: no
``stickiness.lb_cookie.duration_seconds`` (so ``community.aws.elb_target_group``
with stickiness options fails with ``KeyError``), no app-cookie or
health-routing attributes. This adds AWS's documented defaults for the target
group's protocol; attributes set later by ModifyTargetGroupAttributes win.
"""
from __future__ import annotations

from moto.elbv2.models import FakeTargetGroup

from localcloud.patching import after_init

_HTTP_DEFAULTS = {
    "stickiness.lb_cookie.duration_seconds": "86400",
    "stickiness.app_cookie.cookie_name": "",
    "stickiness.app_cookie.duration_seconds": "86400",
    "load_balancing.algorithm.anomaly_mitigation": "off",
}
_NETWORK_DEFAULTS = {
    "deregistration_delay.connection_termination.enabled": "false",
    "proxy_protocol_v2.enabled": "false",
    "preserve_client_ip.enabled": "true",
}
_HEALTH_DEFAULTS = {
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
    "target_group_health.dns_failover.minimum_healthy_targets.count": "1",
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": "off",
}


def default_attributes(protocol: str | None, target_type: str) -> dict[str, str]:
    """Attributes AWS reports for a new target group that moto leaves out."""
    defaults: dict[str, str] = {}
    if target_type != "lambda":
        defaults.update(_HEALTH_DEFAULTS)
    if protocol in ("HTTP", "HTTPS"):
        defaults.update(_HTTP_DEFAULTS)
    elif protocol in ("TCP", "TLS", "UDP", "TCP_UDP"):
        defaults.update(_NETWORK_DEFAULTS)
    return defaults


def add_defaults(group: FakeTargetGroup) -> None:
    for key, value in default_attributes(group.protocol, group.target_type).items():
        group.attributes.setdefault(key, value)
    for key, value in list(group.attributes.items()):
        group.attributes[key] = str(value)


def apply() -> None:
    after_init(FakeTargetGroup, __name__, add_defaults)
