"""HTTPS to an address of our choosing with TLS for (and verified against) another name:
what ``curl --resolve NAME:PORT:ADDRESS`` does. The twin's edge, the Stripe stand-in and the
twin's tests reach a name of the stack (``api.<domain>``, the twin's balancer) this way,
without DNS."""
from __future__ import annotations

import http.client
import ssl


class ResolvedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to ``address:port`` whose TLS handshake (SNI and certificate
    check) is for ``server_name``."""

    def __init__(self, address: str, port: int, server_name: str, context: ssl.SSLContext,
                 timeout: float) -> None:
        super().__init__(address, port, timeout=timeout, context=context)
        self.server_name, self.tls = server_name, context

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.server_name)
