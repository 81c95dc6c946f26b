"""ELBv2: new load balancers are ``provisioning`` for a while, then ``active``.

moto flips a load balancer to ``active`` on the first describe. Here it stays
``provisioning`` for ``LOCALCLOUD_ALB_PROVISION_SECONDS`` (default 5) after
CreateLoadBalancer, so waiters (``wait: true``, ``load_balancer_available``) wait.
"""
from __future__ import annotations

import functools
from typing import Any

from moto.elbv2.models import FakeLoadBalancer

from localcloud import settings
from localcloud.timed import TimedStatus, installed, start_clock


def apply() -> None:
    if installed(FakeLoadBalancer, "state"):
        return
    original = FakeLoadBalancer.__init__
    FakeLoadBalancer.state = TimedStatus("state", "provisioning", "active")  # type: ignore[assignment]

    @functools.wraps(original)
    def __init__(self: FakeLoadBalancer, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        start_clock(self, settings.alb_provision_seconds())

    def activate(self: FakeLoadBalancer) -> None:
        """Reading ``state`` makes it active once its time has come."""
        _ = self.state

    FakeLoadBalancer.__init__ = __init__  # type: ignore[method-assign]
    FakeLoadBalancer.activate = activate  # type: ignore[method-assign]
