"""The lookup's cache: one flight per secret, batching, wire format (no cloud needed)."""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from ansible_collections.autobuy.guard.plugins.plugin_utils import secrets_cache as cache

SETTINGS = cache.aws.ConnectionSettings(region="eu-central-1", endpoint_url="http://127.0.0.1:1")


class SlowFetcher:
    def __init__(self, delay: float = 0.2, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.delay = delay
        self.fail = fail

    def fetch(self, settings: Any, requests: list[Any]) -> dict[Any, Any]:
        self.calls.append([r.secret_id for r in requests])
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("boom")
        return {r: cache.SecretResult(string=f"value-of-{r.secret_id}") for r in requests}


def test_concurrent_askers_share_one_fetch() -> None:
    fetcher = SlowFetcher()
    store = cache.SecretStore(fetcher)
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.extend(store.get_many(SETTINGS, [cache.SecretRequest("a")])))
               for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fetcher.calls == [["a"]]
    assert {r.string for r in results} == {"value-of-a"} and len(results) == 10


def test_only_uncached_terms_are_fetched_together() -> None:
    fetcher = SlowFetcher(delay=0)
    store = cache.SecretStore(fetcher)
    store.get_many(SETTINGS, [cache.SecretRequest("a")])
    out = store.get_many(SETTINGS, [cache.SecretRequest("a"), cache.SecretRequest("b"), cache.SecretRequest("c")])
    assert [r.string for r in out] == ["value-of-a", "value-of-b", "value-of-c"]
    assert fetcher.calls == [["a"], ["b", "c"]]


def test_versions_and_settings_are_separate_entries() -> None:
    fetcher = SlowFetcher(delay=0)
    store = cache.SecretStore(fetcher)
    store.get_many(SETTINGS, [cache.SecretRequest("a")])
    store.get_many(SETTINGS, [cache.SecretRequest("a", version_stage="AWSPREVIOUS")])
    store.get_many(cache.aws.with_region(SETTINGS, "eu-west-1"), [cache.SecretRequest("a")])
    assert len(fetcher.calls) == 3


def test_arn_terms_are_read_in_their_region() -> None:
    seen: list[str] = []

    class Recorder(SlowFetcher):
        def fetch(self, settings: Any, requests: list[Any]) -> dict[Any, Any]:
            seen.append(settings.region)
            return super().fetch(settings, requests)

    store = cache.SecretStore(Recorder(delay=0))
    store.get_many(SETTINGS, [cache.SecretRequest("arn:aws:secretsmanager:us-east-2:210987654321:secret:x-AbCdEf"),
                              cache.SecretRequest("plain")])
    assert sorted(seen) == ["eu-central-1", "us-east-2"]


def test_a_crashing_fetch_fails_every_asker_without_hanging() -> None:
    store = cache.SecretStore(SlowFetcher(fail=True))
    [result] = store.get_many(SETTINGS, [cache.SecretRequest("a")])
    assert result.error_code == "RuntimeError" and not result.cacheable
    store.fetcher.fail = False
    assert store.get_many(SETTINGS, [cache.SecretRequest("a")])[0].string == "value-of-a"


@pytest.mark.parametrize("result", [
    cache.SecretResult(string='{"k": 1}', name="n"),
    cache.SecretResult(binary=b"\x00\xffbin", name="n"),
    cache.SecretResult(error_code="ResourceNotFoundException", error_message="gone"),
])
def test_wire_round_trip(result: Any) -> None:
    assert cache.SecretResult.from_wire(result.to_wire()) == result


def test_batchable_and_arn_region() -> None:
    assert cache.SecretRequest("a").batchable
    assert cache.SecretRequest("a", version_stage="AWSCURRENT").batchable
    assert not cache.SecretRequest("a", version_stage="AWSPREVIOUS").batchable
    assert not cache.SecretRequest("a", version_id="v1").batchable
    assert cache.SecretRequest("arn:aws:secretsmanager:eu-west-1:1:secret:x").arn_region == "eu-west-1"
    assert cache.SecretRequest("taskapp/database").arn_region is None


def test_many_lookups_connecting_at_once_are_queued_not_refused() -> None:
    # The server is busy (not accepting yet) while 40 lookups connect with a timeout, as
    # forks x threads do on a loaded controller: each connect must wait in the listen
    # queue. With socketserver's default backlog of 5 the 7th failed at once (EAGAIN).
    import socket

    server = cache.CacheServer()
    clients = []
    try:
        for _ in range(40):
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            clients.append(client)
            client.settimeout(5)
            client.connect(server.path)
    finally:
        for client in clients:
            client.close()
        server.stop()
