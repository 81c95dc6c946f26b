"""secrets_manager lookup on the local cloud: values, keys, versions, errors, call counts."""
from __future__ import annotations

import json
import threading
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader
from ansible._internal._datatag._tags import TrustedAsTemplate
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from botocore.exceptions import ClientError

from ansible_collections.autobuy.guard.plugins.plugin_utils import secrets_cache

DB = {"host": "db.internal", "port": 3306, "username": "app", "password": "s3cr3t-Value",
      "dbname": "autobuy", "nested": {"replicas": [{"host": "r0"}, {"host": "r1"}]}, "a.b": "dotted"}


def lookup() -> Any:
    plugin = lookup_loader.get("autobuy.guard.secrets_manager")
    assert plugin is not None
    return plugin


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with an empty per-process cache and no cache server."""
    lookup()
    module = cache_module()
    monkeypatch.setattr(module, "_LOCAL_STORE", None)
    monkeypatch.delenv(module.SOCKET_ENV, raising=False)


def cache_module() -> Any:
    return secrets_cache


def secret(value: Any) -> tuple[str, str]:
    name = f"test/{uuid.uuid4().hex[:8]}"
    text = value if isinstance(value, str) else json.dumps(value)
    arn = boto3.client("secretsmanager").create_secret(Name=name, SecretString=text)["ARN"]
    return name, arn


def calls(url: str) -> dict[str, int]:
    with urllib.request.urlopen(url + "/localcloud/calls", timeout=5) as r:
        return json.load(r)["by_service"].get("secretsmanager", {})


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}


def test_json_secret_is_parsed(localcloud: str) -> None:
    name, _ = secret(DB)
    assert lookup().run([name], {}) == [DB]


def test_values_are_never_templated_again(localcloud: str) -> None:
    name, _ = secret({"password": "{{ 6 * 7 }}"})
    [whole] = lookup().run([name], {})
    [field] = lookup().run([name], {}, key="password")
    templar = Templar(loader=DataLoader(), variables={"whole": whole, "field": field})
    assert templar.template(trusted("{{ field }}")) == "{{ 6 * 7 }}"
    assert templar.template(trusted("{{ whole.password }}")) == "{{ 6 * 7 }}"
    # the same text from a trusted source is rendered: so the test can fail
    assert Templar(loader=DataLoader(), variables={"t": trusted("{{ 6 * 7 }}")}).template(
        trusted("{{ t }}")) == 42


def trusted(text: str) -> str:
    return TrustedAsTemplate().tag(text)


def test_key_and_dotted_paths(localcloud: str) -> None:
    name, _ = secret(DB)
    assert lookup().run([name], {}, key="password") == ["s3cr3t-Value"]
    assert lookup().run([name], {}, key="nested.replicas.1.host") == ["r1"]
    assert lookup().run([name], {}, key="a.b") == ["dotted"]


def test_missing_key_names_keys_never_values(localcloud: str) -> None:
    name, _ = secret(DB)
    with pytest.raises(AnsibleLookupError) as err:
        lookup().run([name], {}, key="pasword")
    msg = str(err.value)
    assert "no key 'pasword'" in msg and "dbname, host, nested, password, port, username" in msg
    assert "s3cr3t-Value" not in msg and "db.internal" not in msg
    with pytest.raises(AnsibleLookupError, match=r"no key 'x' at nested.replicas.0 .*keys there: host"):
        lookup().run([name], {}, key="nested.replicas.0.x")


def test_plain_secret_and_key_of_non_json(localcloud: str) -> None:
    name, _ = secret("just-a-token")
    assert lookup().run([name], {}) == ["just-a-token"]
    with pytest.raises(AnsibleLookupError, match="is not a JSON object, so key 'password'") as err:
        lookup().run([name], {}, key="password")
    assert "just-a-token" not in str(err.value)


def test_bad_json_is_returned_as_text(localcloud: str) -> None:
    name, _ = secret('{"password": "unterminated')
    assert lookup().run([name], {}) == ['{"password": "unterminated']
    with pytest.raises(AnsibleLookupError, match="not a JSON object"):
        lookup().run([name], {}, key="password")


def test_full_arn_is_accepted(localcloud: str) -> None:
    _, arn = secret(DB)
    assert lookup().run([arn], {}, key="port") == [3306]


def test_arn_region_wins(localcloud: str) -> None:
    name = f"test/{uuid.uuid4().hex[:8]}"
    arn = boto3.client("secretsmanager", region_name="eu-west-1").create_secret(
        Name=name, SecretString='{"k": "west"}')["ARN"]
    assert lookup().run([arn], {}, key="k") == ["west"]  # default region is eu-central-1


def test_versions(localcloud: str) -> None:
    name, _ = secret({"password": "old"})
    sm = boto3.client("secretsmanager")
    new_version = sm.put_secret_value(SecretId=name, SecretString='{"password": "new"}')["VersionId"]
    assert lookup().run([name], {}, key="password") == ["new"]
    assert lookup().run([name], {}, key="password", version_stage="AWSPREVIOUS") == ["old"]
    assert lookup().run([name], {}, key="password", version_id=new_version) == ["new"]


def test_on_missing(localcloud: str, capsys: pytest.CaptureFixture[str]) -> None:
    missing = f"test/missing-{uuid.uuid4().hex[:6]}"
    with pytest.raises(AnsibleLookupError, match=f"secret '{missing}' was not found"):
        lookup().run([missing], {})
    assert lookup().run([missing], {}, on_missing="skip") == []
    name, _ = secret({"k": "v"})
    assert lookup().run([missing, name], {}, on_missing="warn", key="k") == ["v"]
    assert "was not found" in capsys.readouterr().err


def test_bad_options_fail_clearly(localcloud: str) -> None:
    with pytest.raises(AnsibleLookupError, match="endpoint_url must be an http"):
        lookup().run(["x"], {}, endpoint_url="nope")
    with pytest.raises(AnsibleLookupError, match="a secret name or ARN is required"):
        lookup().run([""], {})
    with pytest.raises(Exception, match="on_missing"):
        lookup().run(["x"], {}, on_missing="ignore")


class ScriptedClient:
    """Stands in for a boto3 client: raises the scripted errors, then answers."""

    def __init__(self, errors: list[str], value: str = '{"k": "v"}') -> None:
        self.errors = errors
        self.value = value
        self.calls = 0

    def get_secret_value(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self.errors:
            code = self.errors.pop(0)
            raise ClientError({"Error": {"Code": code, "Message": f"{code} for you"}}, "GetSecretValue")
        return {"Name": kwargs["SecretId"], "SecretString": self.value}


def scripted(monkeypatch: pytest.MonkeyPatch, client: ScriptedClient) -> None:
    cache = cache_module()
    fetcher = cache.Fetcher(retry=cache.aws.aws_retry(retries=3, sleep=lambda _: None))
    monkeypatch.setattr(fetcher, "client", lambda settings: client)
    monkeypatch.setattr(cache, "_LOCAL_STORE", cache.SecretStore(fetcher))


def test_access_denied(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    scripted(monkeypatch, ScriptedClient(["AccessDeniedException"] * 10))
    with pytest.raises(AnsibleLookupError, match="'s' could not be read: access denied"):
        lookup().run(["s"], {})
    assert lookup().run(["s"], {}, on_denied="skip") == []


def test_throttling_is_retried(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = ScriptedClient(["ThrottlingException", "TooManyRequestsException"])
    scripted(monkeypatch, client)
    assert lookup().run(["s"], {}, key="k") == ["v"]
    assert client.calls == 3


def test_throttling_fails_after_retries(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = ScriptedClient(["ThrottlingException"] * 10)
    scripted(monkeypatch, client)
    with pytest.raises(AnsibleLookupError, match="throttled .* after retries"):
        lookup().run(["s"], {})
    assert client.calls == 4
    # throttling is not cached: the next task tries again
    client.errors = []
    assert lookup().run(["s"], {}, key="k") == ["v"]


def test_two_terms_one_batch_call_then_cached(localcloud: str) -> None:
    one, _ = secret({"k": 1})
    two, _ = secret({"k": 2})
    before = calls(localcloud)
    assert lookup().run([one, two], {}, key="k") == [1, 2]
    assert lookup().run([two], {}, key="k") == [2]
    assert lookup().run([one, two], {}) == [{"k": 1}, {"k": 2}]
    assert delta(before, calls(localcloud)) == {"BatchGetSecretValue": 1}


def test_batch_reports_missing_terms(localcloud: str) -> None:
    one, _ = secret({"k": 1})
    missing = f"test/missing-{uuid.uuid4().hex[:6]}"
    assert lookup().run([one, missing], {}, key="k", on_missing="skip") == [1]
    with pytest.raises(AnsibleLookupError, match="was not found"):
        lookup().run([missing, one], {}, key="k")


def test_cache_server_one_call_across_threads_and_processes(localcloud: str) -> None:
    import multiprocessing

    cache = cache_module()
    name, _ = secret({"k": "shared"})
    server = cache.CacheServer().start()
    try:
        assert (Path(server.directory).stat().st_mode & 0o777) == 0o700
        settings = cache.aws.resolve_settings({})
        before = calls(localcloud)
        results: list[Any] = []
        threads = [threading.Thread(target=lambda: results.extend(
            cache.fetch_via_socket(server.path, settings, [cache.SecretRequest(name)])))
            for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(3) as pool:
            texts = pool.starmap(_read_in_child, [(server.path, name)] * 6)
        assert {r.string for r in results} == {'{"k": "shared"}'} and len(results) == 8
        assert set(texts) == {'{"k": "shared"}'}
        assert delta(before, calls(localcloud)) == {"GetSecretValue": 1}
    finally:
        server.stop()
    assert not Path(server.directory).exists()


def _read_in_child(path: str, name: str) -> str:
    cache = cache_module()
    [result] = cache.fetch_via_socket(path, cache.aws.resolve_settings({}), [cache.SecretRequest(name)])
    return result.string


def test_lookup_uses_the_server_from_the_environment(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = cache_module()
    name, _ = secret({"k": "v"})
    server = cache.CacheServer().start()
    try:
        monkeypatch.setenv(cache.SOCKET_ENV, server.path)
        assert lookup().run([name], {}, key="k") == ["v"]
        assert len(server.store._cache) == 1
        assert cache._LOCAL_STORE is None  # nothing cached in this process
    finally:
        server.stop()


def test_unreachable_server_falls_back(localcloud: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    name, _ = secret({"k": "v"})
    monkeypatch.setenv(cache_module().SOCKET_ENV, str(tmp_path / "gone.sock"))
    assert lookup().run([name], {}, key="k") == ["v"]
