"""The SSRF guard refuses every spelling of internal addresses and admits public shops."""

from __future__ import annotations

import asyncio
import socket

import pytest

from autobuy.engine.urlguard import (
    UnsafeURLError,
    check_url,
    parse_ipv4_host,
    resolve_vetted,
    resolve_vetted_async,
    vet_address,
)

METADATA_SPELLINGS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/",
    "http://0251.0376.0251.0376/",
    "http://0xa9fea9fe/",
    "http://0xA9.0xFE.0xA9.0xFE/",
    "http://0xa9.254.0251.0xfe/",
    "http://169.254.43518/",
    "http://169.16689662/",
    "http://0251.0xfe.43518/",
    "http://00000251.0376.0251.0376/",
    "http://169.254.169.254./",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[0:0:0:0:0:ffff:169.254.169.254]/",
    "http://[fd00:ec2::254]/",
    "http://[2002:a9fe:a9fe::]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://%31%36%39.254.169.254/",
    "http://１６９.２５４.１６９.２５４/",
    "http://169。254。169。254/",
    "http://169.254.169.254:80/",
    "HTTP://169.254.169.254/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://instance-data/latest/",
    "http://169.254.170.2/v2/credentials",
]

LOOPBACK_AND_LOCAL = [
    "http://localhost/",
    "http://LOCALHOST/",
    "http://localhost./",
    "http://localhost:8080/admin",
    "http://shop.localhost/",
    "http://localhost.localdomain/",
    "http://ip6-localhost/",
    "http://127.0.0.1/",
    "http://127.1/",
    "http://127.0.1/",
    "http://127.255.255.254/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    "http://printer.local/",
    "http://db.internal/",
    "http://router.home.arpa/",
    "http://intranet/",
]

PRIVATE_AND_SPECIAL = [
    "http://10.0.0.1/",
    "http://10.255.255.255/",
    "http://167772161/",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.1.1/",
    "http://0xc0a80101/",
    "http://100.64.0.1/",
    "http://169.254.0.1/",
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://[ff02::1]/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://192.0.2.1/",
    "http://198.18.0.1/",
    "http://[2001:db8::1]/",
    "http://[fec0::1]/",
]

MALFORMED = [  # (URL, the reason its refusal must name)
    ("ftp://shop.de/item", "must start with http"),
    ("file:///etc/passwd", "must start with http"),
    ("gopher://shop.de/", "must start with http"),
    ("javascript:alert(1)", "must start with http"),
    ("//shop.de/item", "must start with http"),
    ("shop.de/item", "must start with http"),
    ("", "empty"),
    ("http://", "no host"),
    ("http://shop.de:99999/", "port must be a number"),
    ("http://shop.de:0/", "port must be a number"),
    ("http://shop.de:abc/", "port must be a number"),
    ("http://256.1.1.1/", "not a valid address"),
    ("http://1.2.3.4.5/", "not a valid address"),
    ("http://0x1g.0.0.1/", "not a valid address"),
    ("http://[::1/", "cannot be parsed"),
    ("http://[not:an:ip]/", "cannot be parsed"),
    ("http://sh op.de/", "whitespace"),
    ("http://shop.de\\@127.0.0.1/", "backslash"),
    ("http://shop.de/\x00", "control character"),
    ("http://shop..de/", "not a valid domain name"),
    ("http://exa%00mple.com/", "characters a domain cannot have"),
]

CREDENTIALS = [
    "http://shop.de@127.0.0.1/",
    "http://user:pass@shop.de/",
    "http://user@shop.de/",
    "http://shop.de:80@169.254.169.254/",
    "http://@shop.de/",
    "https://amazon.de%40evil@10.0.0.1/",
]

PUBLIC = [
    "https://www.amazon.de/dp/B0C1234567",
    "https://www.amazon.co.uk/gp/product/B0C1234567?th=1",
    "http://www.otto.de/p/some-product-123/",
    "https://www.galaxus.ch/de/s1/product/123",
    "https://shop.example.com:8443/item/1",
    "https://www.zalando.de./herren/",
    "http://93.184.216.34/product",
    "http://[2606:2800:220:1:248:1893:25c8:1946]/item",
    "https://bücher.de/artikel/1",
    "  https://www.ebay.de/itm/1234  ",
]


# A refusal must be for the right reason: an address refusal names the kind of address
# (the metadata service, loopback, a private range...), never only a parse problem.
_METADATA_NAMES = {"http://metadata.google.internal/computeMetadata/v1/",
                   "http://instance-data/latest/"}
_ADDRESS_KINDS = ("loopback address|local or internal name|unspecified address|no public domain"
                  "|private address|shared \\(carrier NAT\\) address|link-local address"
                  "|multicast address|site-local address")


@pytest.mark.parametrize("url", METADATA_SPELLINGS)
def test_metadata_address_in_every_spelling_is_refused(url: str) -> None:
    reason = "local or internal name" if url in _METADATA_NAMES else "instance metadata address"
    with pytest.raises(UnsafeURLError, match=f"{reason}.*cannot be tracked"):
        check_url(url)


@pytest.mark.parametrize("url", LOOPBACK_AND_LOCAL + PRIVATE_AND_SPECIAL)
def test_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURLError, match=f"({_ADDRESS_KINDS}).*cannot be tracked"):
        check_url(url)


@pytest.mark.parametrize(("url", "reason"), MALFORMED)
def test_malformed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURLError, match=reason):
        check_url(url)


@pytest.mark.parametrize("url", CREDENTIALS)
def test_credentials_in_url_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURLError, match="user name or password"):
        check_url(url)


@pytest.mark.parametrize("url", PUBLIC)
def test_public_shop_urls_pass(url: str) -> None:
    assert check_url(url) == url.strip()


def test_over_two_kilobytes_is_refused() -> None:
    url = "https://shop.de/" + "a" * 2033
    assert len(url) == 2049
    with pytest.raises(UnsafeURLError, match="longer than 2048"):
        check_url(url)
    assert check_url(url[:-1]) == url[:-1]


def test_error_is_a_value_error_with_a_readable_message() -> None:
    with pytest.raises(ValueError) as info:
        check_url("http://0xa9fea9fe/")
    message = str(info.value)
    assert "169.254.169.254" in message and "metadata" in message


def test_non_string_is_refused() -> None:
    with pytest.raises(UnsafeURLError, match="must be a string"):
        check_url(b"http://shop.de/")  # type: ignore[arg-type]


def test_allowlist_admits_only_the_listed_demo_shop() -> None:
    allow = frozenset({"127.0.0.1:8765", "demo-shop"})
    assert check_url("http://127.0.0.1:8765/p/1", allow_hosts=allow)
    assert check_url("http://demo-shop/p/1", allow_hosts=allow)
    for url in ("http://127.0.0.1:8766/", "http://127.0.0.1/", "http://2130706433:8765/"):
        with pytest.raises(UnsafeURLError, match="loopback address"):
            check_url(url, allow_hosts=allow)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2852039166", "169.254.169.254"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("169.254.43518", "169.254.169.254"),
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("8.8.8.8.", "8.8.8.8"),
        ("shop.de", None),
        ("1shop.de", None),
        ("0xshop.de", None),
    ],
)
def test_ipv4_spellings_parse_like_browsers(host: str, expected: str | None) -> None:
    parsed = parse_ipv4_host(host)
    assert (str(parsed) if parsed else None) == expected


@pytest.mark.parametrize(
    ("address", "reason"),
    [("127.0.0.1", "loopback address"), ("169.254.169.254", "instance metadata address"),
     ("10.1.2.3", "private address"), ("::1", "loopback address"),
     ("::ffff:10.0.0.1", "private address"), ("fd00:ec2::254", "instance metadata address"),
     ("fe80::1%eth0", "link-local address"), ("0.0.0.0", "unspecified address"),
     ("224.0.0.251", "multicast address"), ("not-an-ip", "invalid address 'not-an-ip'")],
)
def test_connect_time_vetting_refuses_bad_resolved_addresses(address: str, reason: str) -> None:
    with pytest.raises(UnsafeURLError, match=reason):
        vet_address(address)


def test_connect_time_vetting_admits_public_addresses() -> None:
    assert str(vet_address("93.184.216.34")) == "93.184.216.34"
    assert str(vet_address("2a00:1450:4001:82b::200e")) == "2a00:1450:4001:82b::200e"


def _fake_getaddrinfo(answers: dict[str, list[str]]):
    def fake(host, port, *args, **kwargs):  # noqa: ANN001, ANN202 - socket.getaddrinfo shape
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]
    return fake


def test_resolution_is_refused_when_any_answer_is_internal(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {"rebind.example": ["93.184.216.34", "169.254.169.254"],
               "good.example": ["93.184.216.34"]}
    monkeypatch.setattr(socket, "getaddrinfo", _fake_getaddrinfo(answers))
    with pytest.raises(UnsafeURLError, match="rebind.example.*169.254.169.254"):
        resolve_vetted("rebind.example", 80)
    assert resolve_vetted("good.example", 80) == ["93.184.216.34"]


def test_allowlisted_host_is_resolved_but_not_vetted() -> None:
    assert "127.0.0.1" in resolve_vetted("localhost", 8765, ["localhost:8765"])
    with pytest.raises(UnsafeURLError, match="loopback address"):
        resolve_vetted("localhost", 8765, ["localhost:9999"])


def test_async_resolution_vets_too() -> None:
    with pytest.raises(UnsafeURLError, match="loopback address"):
        asyncio.run(resolve_vetted_async("localhost", 80))
    assert asyncio.run(resolve_vetted_async("127.0.0.1", 80, ["127.0.0.1"])) == ["127.0.0.1"]
