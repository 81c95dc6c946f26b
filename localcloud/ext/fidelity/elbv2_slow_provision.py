"""ELBv2: new load balancers are ``provisioning`` for a while, then ``active``.

moto flips a load balancer to ``active`` on the first describe. Here it stays
``provisioning`` for ``LOCALCLOUD_ALB_PROVISION_SECONDS`` (default 5) after
CreateLoadBalancer, so waiters (``wait: true``, ``load_balancer_available``) wait.
"""
from __future__ import annotations

from moto.elbv2.models import FakeLoadBalancer

from localcloud import settings
from localcloud.timed import installed, wait_after_create


def apply() -> None:
    if installed(FakeLoadBalancer, "state"):
        return
    wait_after_create(FakeLoadBalancer, "state", "provisioning", "active",
                      settings.alb_provision_seconds, created="provisioning")

    def activate(self: FakeLoadBalancer) -> None:
        """Reading ``state`` makes it active once its time has come."""
        _ = self.state

    FakeLoadBalancer.activate = activate  # type: ignore[method-assign]
