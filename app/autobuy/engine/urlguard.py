"""SSRF guard: which URLs and addresses the price engine may fetch.

Two layers, both needed:

* :func:`check_url` validates a URL *without DNS*: scheme, size, no credentials, and a
  host that is not (and does not spell) a loopback, private, link-local, multicast,
  reserved or metadata address. The API calls it when an item is created or changed;
  the fetcher calls it again on every redirect target.
* :func:`vet_address` / :func:`resolve_vetted` / :func:`resolve_vetted_async` run at
  *connect time*: the fetcher resolves the host itself, refuses the connection when any
  resolved address is unsafe, and connects to the vetted address it just checked (see
  ``autobuy.engine.fetch``), so a DNS answer that changes between check and connect
  (rebinding) has no window.

IPv4 literals are parsed the way browsers and ``inet_aton`` do (WHATWG URL standard):
``2852039166``, ``0xa9fea9fe``, ``0251.0376.0251.0376``, ``169.254.43518`` and mixed
forms all mean 169.254.169.254. IPv6 addresses that embed an IPv4 address
(IPv4-mapped, 6to4, Teredo, NAT64) are judged by the embedded address too.

``allow_hosts`` is the explicit allowlist (``host`` or ``host:port`` entries, lower
case) that admits local demo shops; nothing is allowed implicitly.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import string
import unicodedata
from collections.abc import Iterable
from urllib.parse import SplitResult, unquote, urlsplit

__all__ = [
    "MAX_URL_BYTES",
    "UnsafeURLError",
    "check_url",
    "host_allowed",
    "ip_problem",
    "parse_ipv4_host",
    "resolve_vetted",
    "resolve_vetted_async",
    "vet_address",
]

MAX_URL_BYTES = 2048

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_METADATA = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("169.254.170.2"),  # ECS task metadata
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IMDS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")

_BLOCKED_NAMES = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "ip6-localhost",
        "ip6-loopback",
        "metadata",
        "metadata.google.internal",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_BLOCKED_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan")
_HOST_CHARS = frozenset(string.ascii_lowercase + string.digits + "-._")
_HEX = frozenset(string.hexdigits)
_DOT_LOOKALIKES = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


class UnsafeURLError(ValueError):
    """A URL or address the engine must not fetch; ``str(err)`` is fit to show a user."""


# --------------------------------------------------------------------------- IPv4 spellings


def _ipv4_number(part: str) -> int | None:
    """One dotted part as ``inet_aton``/WHATWG read it (decimal, 0x hex, 0-octal)."""
    if not part:
        return None
    digits, radix = part, 10
    if part[:2] in ("0x", "0X"):
        digits, radix = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        digits, radix = part[1:], 8
    if not digits:
        return 0
    valid = {10: string.digits, 16: string.hexdigits, 8: string.octdigits}[radix]
    if any(ch not in valid for ch in digits):
        return None
    return int(digits, radix)


def _ends_in_number(host: str) -> bool:
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    last = parts[-1]
    if last and all(ch in string.digits for ch in last):
        return True
    return last[:2] in ("0x", "0X") and all(ch in _HEX for ch in last[2:])


def parse_ipv4_host(host: str) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address a URL host spells, or None when it is a name.

    Raises UnsafeURLError for hosts that look numeric but are not a valid address
    (browsers refuse those too, and resolvers treat them inconsistently).
    """
    if not _ends_in_number(host):
        return None
    parts = host.split(".")
    if parts[-1] == "":
        parts.pop()
    numbers = [_ipv4_number(p) for p in parts]
    if len(parts) > 4 or any(n is None for n in numbers):
        raise UnsafeURLError(f"URL host {host!r} is not a valid address")
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise UnsafeURLError(f"URL host {host!r} is not a valid address")
    number = values[-1]
    for index, value in enumerate(values[:-1]):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


# --------------------------------------------------------------------------- classification


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def ip_problem(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be fetched (a phrase such as "a loopback address"), or None."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        for inner in _embedded_ipv4(ip):
            problem = ip_problem(inner)
            if problem:
                return f"{problem} (embedded in {ip})"
    checks: list[tuple[bool, str]] = [
        (ip in _METADATA, "the cloud instance metadata address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "a shared (carrier NAT) address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "a site-local address"),
        (not ip.is_global, "not a public address"),
    ]
    for bad, phrase in checks:
        if bad:
            return phrase
    return None


def _refuse_ip(ip: IPAddress, shown: str) -> None:
    problem = ip_problem(ip)
    if problem:
        spelled = "" if shown.strip("[]") in (str(ip), ip.exploded) else f" (= {ip})"
        raise UnsafeURLError(f"URL host {shown}{spelled} is {problem}; it cannot be tracked")


# --------------------------------------------------------------------------- URL check


def host_allowed(host: str, port: int | None, allow_hosts: Iterable[str]) -> bool:
    """True when ``host`` or ``host:port`` is on the explicit allowlist."""
    allowed = frozenset(h.lower().rstrip(".") for h in allow_hosts)
    host = host.lower().rstrip(".")
    return host in allowed or (port is not None and f"{host}:{port}" in allowed)


def _split(url: str) -> SplitResult:
    if not isinstance(url, str):
        raise UnsafeURLError("URL must be a string")
    if len(url.encode("utf-8")) > MAX_URL_BYTES:
        raise UnsafeURLError(f"URL is longer than {MAX_URL_BYTES} bytes")
    if not url:
        raise UnsafeURLError("URL is empty")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" or ch == "\\" for ch in url):
        raise UnsafeURLError("URL contains whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UnsafeURLError(f"URL cannot be parsed: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeURLError("URL must start with http:// or https://")
    if not parts.netloc:
        raise UnsafeURLError("URL has no host")
    if "@" in parts.netloc:
        raise UnsafeURLError("URL must not contain a user name or password")
    return parts


def _normalise_host(parts: SplitResult) -> str:
    raw = parts.netloc
    if raw.startswith("["):
        end = raw.find("]")
        if end < 0:
            raise UnsafeURLError("URL host has an unclosed IPv6 bracket")
        return raw[: end + 1].lower()
    host = raw.rsplit(":", 1)[0] if ":" in raw else raw
    host = unicodedata.normalize("NFKC", unquote(host)).translate(_DOT_LOOKALIKES).lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeURLError("URL host is not a valid domain name") from None
    if not host or any(ch not in _HOST_CHARS for ch in host):
        raise UnsafeURLError(f"URL host {host!r} contains characters a domain cannot have")
    return host


def _port(parts: SplitResult) -> int | None:
    try:
        port = parts.port
    except ValueError:
        raise UnsafeURLError("URL port must be a number from 1 to 65535") from None
    if port == 0:
        raise UnsafeURLError("URL port must be a number from 1 to 65535")
    return port


def _check_name(host: str) -> None:
    name = host.rstrip(".")
    if not name or ".." in name:
        raise UnsafeURLError(f"URL host {host!r} is not a valid domain name")
    if name in _BLOCKED_NAMES or name.endswith(_BLOCKED_SUFFIXES):
        raise UnsafeURLError(f"URL host {host} is a local or internal name; it cannot be tracked")
    if "." not in name:
        raise UnsafeURLError(f"URL host {host} has no public domain; it cannot be tracked")


def check_url(url: str, *, allow_hosts: frozenset[str] = frozenset()) -> str:
    """Validate an item URL without DNS; return it (surrounding whitespace stripped).

    Raises UnsafeURLError (a ValueError) with a message fit for the user.
    """
    url = url.strip() if isinstance(url, str) else url
    parts = _split(url)
    host = _normalise_host(parts)
    port = _port(parts)
    if host_allowed(host.strip("[]"), port, allow_hosts):
        return url
    if host.startswith("["):
        try:
            ip6 = ipaddress.IPv6Address(host[1:-1].split("%", 1)[0])
        except ValueError:
            raise UnsafeURLError(f"URL host {host} is not a valid IPv6 address") from None
        _refuse_ip(ip6, host)
        return url
    ip4 = parse_ipv4_host(host)
    if ip4 is not None:
        _refuse_ip(ip4, host)
        return url
    _check_name(host)
    return url


# --------------------------------------------------------------------------- connect time


def vet_address(address: str) -> IPAddress:
    """Parse a resolved address and refuse it when it is unsafe (connect-time check)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        raise UnsafeURLError(f"resolver returned an invalid address {address!r}") from None
    problem = ip_problem(ip)
    if problem:
        raise UnsafeURLError(f"host resolves to {ip}, which is {problem}; refusing to connect")
    return ip


def _vetted(host: str, port: int, infos: list[tuple], allowed: bool) -> list[str]:
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        if not allowed:
            try:
                vet_address(address)
            except UnsafeURLError as exc:
                raise UnsafeURLError(f"{host}: {exc}") from None
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeURLError(f"{host} has no address")
    return addresses


def resolve_vetted(host: str, port: int, allow_hosts: Iterable[str] = ()) -> list[str]:
    """Resolve ``host`` and return its addresses, refusing if ANY of them is unsafe.

    Allowlisted hosts are resolved but not vetted. Raises UnsafeURLError, or OSError
    when the name does not resolve.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return _vetted(host, port, infos, host_allowed(host, port, allow_hosts))


async def resolve_vetted_async(host: str, port: int, allow_hosts: Iterable[str] = ()) -> list[str]:
    """Async twin of :func:`resolve_vetted` (uses the event loop's resolver)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return _vetted(host, port, infos, host_allowed(host, port, allow_hosts))
