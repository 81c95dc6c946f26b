"""The Stripe stand-in under a name of the twin network, for the instances' API.

The stand-in (localcloud/stripe.py) is part of the local cloud, on 127.0.0.1 of this
machine. The instances' app reaches it as ``https://stripe.twin.internal/stripe`` (the
local inventory's ``autobuy_stripe_api_url``; on AWS ``https://api.stripe.com``):

* ``localcloud-stripe-<owner>`` (``autobuy/testapp:latest``, any image with python3;
  non-root, read-only) joins the twin network with the alias :data:`HOST`, which the
  instances and their containers resolve (VPC resolver -> Docker's resolver), and relays
  port 443 (localcloud/twin/relay.py) to the instances' AWS endpoint on the network's
  gateway address (localcloud/twin/instance_services.py);
* that endpoint answers TLS for :data:`HOST` with a certificate of the twin's CA, which
  the instances trust, and passes the request on to the local cloud, which sends
  ``/stripe/*`` to the stand-in.

Started with the twin's instance services (``LOCALCLOUD_TWIN=on`` with container instances).
"""
from __future__ import annotations

from pathlib import Path

from localcloud.twin import docker

IMAGE = "autobuy/testapp:latest"
HOST = "stripe.twin.internal"
PORT = 443
SCRIPT = Path(__file__).resolve().with_name("relay.py")


class StripeHost(docker.Service):
    def __init__(self, owner: str, network: str, gateway: str) -> None:
        super().__init__("stripe", owner, network, IMAGE)
        self.container = f"localcloud-stripe-{owner}"
        self.gateway = gateway

    def start(self) -> None:
        self.require_image("the twin's Stripe host name")
        docker.run(["run", "-d", "--name", self.container, *self.labels(),
                    "--network", self.network, "--network-alias", HOST,
                    "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                    "--user", "10001:10001", "--no-healthcheck",
                    # a port under 1024 for a user without capabilities (this namespace only)
                    "--sysctl", f"net.ipv4.ip_unprivileged_port_start={PORT}",
                    "-v", f"{SCRIPT}:/opt/relay/relay.py:ro",
                    "--entrypoint", "python3", self.image, "/opt/relay/relay.py",
                    "--listen", f"0.0.0.0:{PORT}", "--to", f"{self.gateway}:{PORT}"])

    def report(self) -> dict[str, str]:
        return {"container": self.container, "api_url": f"https://{HOST}/stripe"}


def serves(name: str) -> bool:
    """Whether the instances' endpoint answers TLS for ``name`` on the stand-in's behalf."""
    return name.lower() == HOST

