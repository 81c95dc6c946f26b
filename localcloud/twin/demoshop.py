"""The twin's demo shop: a shop whose prices you change, for the price engine on instances.

Third-party shops are out of reach offline; the twin runs the project's demo shop
(``tests/app/support/demoshop.py``, standard library only: ``GET /p/<n>`` a product page,
``POST /admin/p/<n>`` with ``{"price": "89.99"}`` changes it) as ``localcloud-demoshop-<owner>``
in ``autobuy/testapp:latest`` (any image with python3; ``make images``), non-root, read-only.

* On the twin network it answers as ``http://demo-shop.twin.internal:8000`` — the name
  instances and their containers resolve (through the VPC resolver), and the only one the
  local inventory's ``autobuy_url_allow_hosts`` admits past the price engine's URL guard.
* From the host it is at ``127.0.0.1:<port>`` (``admin_url`` of ``/localcloud/twin``).

Started with the twin when ``LOCALCLOUD_DEMO_SHOP`` is ``on`` (the default).
"""
from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

from localcloud.twin import docker

IMAGE = "autobuy/testapp:latest"
HOST = "demo-shop.twin.internal"
PORT = 8000
SCRIPT = Path(__file__).resolve().parents[2] / "tests" / "app" / "support" / "demoshop.py"


class DemoShop(docker.Service):
    def __init__(self, owner: str, network: str) -> None:
        super().__init__("demo-shop", owner, network, IMAGE)
        self.container = f"localcloud-demoshop-{owner}"
        self.address = ""  # 127.0.0.1:port once started

    def start(self) -> None:
        self.require_image("the twin's demo shop", " (or LOCALCLOUD_DEMO_SHOP=off)")
        docker.run(["run", "-d", "--name", self.container,
                    *self.labels(),
                    "--network", self.network, "--network-alias", HOST,
                    "-p", f"127.0.0.1::{PORT}",
                    "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                    "--user", "10001:10001",
                    # The image's own health check asks the test app's port (5000): the
                    # shop's is its product page, or `docker ps` calls a serving shop unhealthy.
                    "--health-cmd", "python3 -c \"import urllib.request; urllib.request"
                    f".urlopen('http://127.0.0.1:{PORT}/p/0', timeout=2)\"",
                    "--health-interval", "10s", "--health-timeout", "3s", "--health-retries", "3",
                    "-v", f"{SCRIPT}:/opt/demoshop/demoshop.py:ro",
                    "--entrypoint", "python3", self.image,
                    "/opt/demoshop/demoshop.py", "--host", "0.0.0.0", "--port", str(PORT)])
        self.address = f"127.0.0.1:{docker.host_port(self.container, PORT)}"
        self._wait_until_serving()

    def _wait_until_serving(self, timeout: float = 30) -> None:
        docker.wait_until_answers(
            self.container, "the demo shop",
            lambda: urllib.request.urlopen(f"http://{self.address}/p/0", timeout=2).close(), timeout)

    def report(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "product_url": f"http://{HOST}:{PORT}/p/{{n}}",
            "admin_url": f"http://{self.address}/admin/p/{{n}}" if self.address else "",
        }
