"""A loopback demo shop whose prices change: for the integration test, the worker
benchmark and people trying the engine.

    python tests/app/support/demoshop.py --port 8765 [--products 1000] [--host 127.0.0.1]

``GET /p/<n>`` serves product n as a German shop page (JSON-LD Product/Offer plus
visible markup and some bulk). Prices start at ``100 + n`` EUR. Change a product with
``POST /admin/p/<n>`` and a JSON body ``{"price": "89.99", "availability": "in_stock"}``;
``{"mode": "captcha"}`` makes the product answer with a bot wall (HTTP 503),
``{"mode": "normal"}`` restores it. ``GET /admin/hits`` returns the request count.
HTTP/1.1 with keep-alive, asyncio streams — it must not be the bottleneck of a bench.
Only for loopback: it binds 127.0.0.1 (``--host`` another address: the local cloud's twin
runs it in a container on its network, localcloud/twin/demoshop.py) and must be admitted
through the engine's explicit allowlist (``127.0.0.1:<port>``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = ["DemoShop", "main"]

_BULK = "".join(f'<li class="nav-item"><a href="/c/{i}">Kategorie {i}</a></li>' for i in range(150))
_CAPTCHA = (
    "<html><head><title>Robot Check</title></head><body><form action='/errors/validateCaptcha'>"
    "<p>Enter the characters you see below</p></form>" + "<!-- padding -->" * 60 + "</body></html>"
).encode()
_AVAILABILITY = {"in_stock": "InStock", "out_of_stock": "OutOfStock", "preorder": "PreOrder"}


@dataclass
class _Product:
    price: Decimal
    availability: str = "in_stock"
    mode: str = "normal"


class DemoShop:
    def __init__(self, products: int) -> None:
        self.products = {n: _Product(Decimal(100 + n)) for n in range(products)}
        self.hits = 0

    def page(self, n: int) -> tuple[int, bytes]:
        product = self.products.get(n)
        if product is None:
            return 404, b"<html><body>not found</body></html>"
        if product.mode == "captcha":
            return 503, _CAPTCHA
        ld = json.dumps({"@context": "https://schema.org", "@type": "Product",
                         "name": f"Demo-Produkt {n}", "sku": f"DEMO-{n}",
                         "offers": {"@type": "Offer", "price": str(product.price),
                                    "priceCurrency": "EUR",
                                    "availability": "https://schema.org/"
                                                    + _AVAILABILITY[product.availability]}})
        shown = f"{product.price:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
        html = (
            f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Demo-Produkt {n}'
            f'</title><script type="application/ld+json">{ld}</script></head><body>'
            f'<header><ul class="nav">{_BULK}</ul></header><main><h1>Demo-Produkt {n}</h1>'
            f'<span class="price">{shown} €</span></main><footer>Demo-Shop</footer></body></html>'
        )
        return 200, html.encode()

    def admin(self, n: int, body: bytes) -> tuple[int, bytes]:
        product = self.products.get(n)
        if product is None:
            return 404, b'{"error": "no such product"}'
        try:
            change = json.loads(body or b"{}")
            if "price" in change:
                product.price = Decimal(str(change["price"]))
            if "availability" in change:
                if change["availability"] not in _AVAILABILITY:
                    raise ValueError("availability")
                product.availability = change["availability"]
            if "mode" in change:
                if change["mode"] not in ("normal", "captcha"):
                    raise ValueError("mode")
                product.mode = change["mode"]
        except (ValueError, InvalidOperation, TypeError) as exc:
            return 400, json.dumps({"error": f"bad change: {exc}"}).encode()
        return 200, b'{"ok": true}'

    def route(self, method: str, path: str, body: bytes) -> tuple[int, bytes, str]:
        parts = path.split("?", 1)[0].strip("/").split("/")
        if method == "GET" and len(parts) == 2 and parts[0] == "p" and parts[1].isdigit():
            self.hits += 1
            return (*self.page(int(parts[1])), "text/html; charset=utf-8")
        if method == "POST" and len(parts) == 3 and parts[:2] == ["admin", "p"] and parts[2].isdigit():
            return (*self.admin(int(parts[2]), body), "application/json")
        if method == "GET" and parts == ["admin", "hits"]:
            return 200, json.dumps({"hits": self.hits}).encode(), "application/json"
        return 404, b"not found", "text/plain"

    async def serve_connection(self, reader: asyncio.StreamReader,
                               writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _version = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in
                           (line.partition(":") for line in lines[1:] if line)}
                length = int(headers.get("content-length", "0") or 0)
                body = await reader.readexactly(length) if length else b""
                status, payload, kind = self.route(method, path, body)
                writer.write(
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                    f"Content-Type: {kind}\r\nContent-Length: {len(payload)}\r\n"
                    "Connection: keep-alive\r\n\r\n".encode() + payload)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()


async def serve(port: int, products: int, ready: asyncio.Event | None = None,
                host: str = "127.0.0.1") -> None:
    shop = DemoShop(products)
    server = await asyncio.start_server(shop.serve_connection, host, port, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"demo shop on http://{host}:{server.sockets[0].getsockname()[1]}/p/0", flush=True)
    if ready is not None:
        ready.set()
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="Loopback demo shop with changeable prices.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.products, host=args.host))


if __name__ == "__main__":
    main()
