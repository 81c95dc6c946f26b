"""The twin balancer's pure pieces: SSL policy table, matcher and wildcard translation."""
from __future__ import annotations

import re

import pytest

from localcloud.twin import balancer


def test_the_playbooks_policy_allows_tls12_and_tls13_only() -> None:
    policy = balancer.SSL_POLICIES["ELBSecurityPolicy-TLS13-1-2-2021-06"]
    assert (policy.min_version, policy.max_version) == ("TLSv1.2", "TLSv1.3")
    # AWS's list for this policy: ECDHE with AES-GCM/AES-CBC-SHA2, no static RSA, no SHA1
    assert "AES128-SHA:" not in policy.ciphers + ":"
    assert all(c.startswith("ECDHE-") for c in policy.ciphers.split(":"))
    assert set(policy.ciphersuites.split(":")) == {
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}


def test_tls13_only_policy_has_no_tls12_ciphers() -> None:
    policy = balancer.SSL_POLICIES["ELBSecurityPolicy-TLS13-1-3-2021-06"]
    assert (policy.min_version, policy.max_version, policy.ciphers) == ("TLSv1.3", "TLSv1.3", "")


@pytest.mark.parametrize(("matcher", "good", "bad"), [
    ("200", ["200"], ["201", "2000", "20"]),
    ("200-202,302", ["200", "201", "202", "302"], ["203", "301"]),
])
def test_matcher_codes(matcher: str, good: list[str], bad: list[str]) -> None:
    regex = re.compile(balancer.status_regex(matcher))
    assert all(regex.match(code) for code in good)
    assert not any(regex.match(code) for code in bad)


def test_bad_matcher_is_refused_with_its_value() -> None:
    with pytest.raises(balancer.BalancerError, match="'2xx'"):
        balancer.status_regex("2xx")


def test_condition_wildcards() -> None:
    host = re.compile(balancer._wildcard("*.example.com"))  # noqa: SLF001
    assert host.match("api.example.com") and not host.match("example.org")
    path = re.compile(balancer._wildcard("/img/?.png"))  # noqa: SLF001
    assert path.match("/img/a.png") and not path.match("/img/ab.png")


def test_quoted_arguments_never_expand_environment_variables() -> None:
    assert balancer._quote('a "b" $HOME') == '"a \\"b\\" \\$HOME"'  # noqa: SLF001
