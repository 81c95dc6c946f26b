"""The shared AWS plumbing: settings resolution, clients, retries, waits."""
from __future__ import annotations

import random
from types import ModuleType

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ansible_collections.autobuy.guard.plugins.doc_fragments import autobuy_aws as autobuy_aws_fragment
from ansible_collections.autobuy.guard.plugins.module_utils import autobuy_aws

u: ModuleType = autobuy_aws


def client_error(code: str, op: str = "GetSecretValue") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} happened"}}, op)


def test_options_win_over_environment() -> None:
    env = {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_PROFILE": "p"}
    s = u.resolve_settings({"region": "eu-central-1", "endpoint_url": ""}, env)
    assert s.region == "eu-central-1"
    assert s.endpoint_url == "http://127.0.0.1:1"  # empty option = unset
    assert s.profile == "p"


def test_default_region_is_second_choice() -> None:
    assert u.resolve_settings({}, {"AWS_DEFAULT_REGION": "us-east-1"}).region == "us-east-1"
    assert u.resolve_settings({}, {}).region is None


@pytest.mark.parametrize(("options", "message"), [
    ({"endpoint_url": "127.0.0.1:4566"}, r"endpoint_url must be an http\(s\) URL"),
    ({"access_key": "AKIA"}, "access_key and secret_key must be given together"),
    ({"assume_role_arn": "role/x"}, "assume_role_arn must be an IAM role ARN"),
    ({"region": "Frankfurt"}, "region must look like"),
])
def test_bad_settings_are_named(options: dict[str, str], message: str) -> None:
    with pytest.raises(u.AWSSettingsError, match=message):
        u.resolve_settings(options, {})


def test_the_argument_spec_is_what_the_doc_fragment_documents() -> None:
    """The options every module takes: names, types and aliases as the ``autobuy_aws``
    fragment documents them (what ansible-doc shows), the secret ones hidden from logs."""
    documented = yaml.safe_load(autobuy_aws_fragment.ModuleDocFragment.DOCUMENTATION)["options"]
    spec = u.AWS_COMMON_ARGUMENT_SPEC
    assert list(spec) == list(documented)
    for name, doc in documented.items():
        assert spec[name]["type"] == doc["type"], name
        assert spec[name].get("aliases", []) == doc.get("aliases", []), name
    assert [n for n, option in spec.items() if option.get("no_log")] == ["secret_key", "session_token"]


def test_each_setting_is_read_from_its_environment_variable() -> None:
    env = {"AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_PROFILE": "p",
           "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t",
           "AWS_ASSUME_ROLE_ARN": "arn:aws:iam::123456789012:role/r", "AWS_ROLE_SESSION_NAME": "n"}
    assert u.resolve_settings({}, env) == u.ConnectionSettings(
        region="eu-west-1", endpoint_url="http://127.0.0.1:1", profile="p", access_key="a",
        secret_key="s", session_token="t", assume_role_arn="arn:aws:iam::123456789012:role/r",
        assume_role_session_name="n")


def test_cache_key_holds_no_secret() -> None:
    s = u.resolve_settings({"access_key": "AK", "secret_key": "SECRET", "session_token": "TOK"}, {})
    assert "SECRET" not in repr(s.cache_key()) and "TOK" not in repr(s.cache_key())


def test_client_without_region_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(u.AWSSettingsError, match="no AWS region"):
        u.client("acm", u.ConnectionSettings(access_key="a", secret_key="b"))


def test_client_reaches_the_local_cloud(localcloud: str) -> None:
    c = u.client("secretsmanager", u.resolve_settings({}))
    assert c.meta.endpoint_url == localcloud
    assert c.meta.region_name == "eu-central-1"
    assert "SecretList" in c.list_secrets()


def test_assume_role_uses_sts_credentials(localcloud: str) -> None:
    settings = u.resolve_settings({"assume_role_arn": "arn:aws:iam::123456789012:role/deployer",
                                   "assume_role_session_name": "unit"})
    sess = u.session(settings)
    creds = sess.get_credentials()
    assert creds.access_key != "localcloud" and creds.token
    ident = sess.client("sts", endpoint_url=localcloud).get_caller_identity()
    assert "assumed-role/deployer/unit" in ident["Arn"]


def test_retry_retries_throttling_then_succeeds() -> None:
    calls, sleeps = [], []

    @u.aws_retry(retries=3, base=0.1, sleep=sleeps.append)
    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise client_error("ThrottlingException")
        return "ok"

    assert flaky() == "ok"
    assert len(calls) == 3 and len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.1 and 0 <= sleeps[1] <= 0.2


def test_retry_gives_up_after_the_budget() -> None:
    sleeps: list[float] = []
    op = u.aws_retry(retries=2, sleep=sleeps.append)(lambda: (_ for _ in ()).throw(client_error("Throttling")))
    with pytest.raises(ClientError):
        op()
    assert len(sleeps) == 2


def test_retry_does_not_retry_other_errors() -> None:
    sleeps: list[float] = []
    op = u.aws_retry(sleep=sleeps.append)(lambda: (_ for _ in ()).throw(client_error("AccessDeniedException")))
    with pytest.raises(ClientError):
        op()
    assert sleeps == []


def test_retry_wraps_stubbed_client_calls() -> None:
    c = boto3.client("secretsmanager", region_name="eu-central-1", aws_access_key_id="a",
                     aws_secret_access_key="b")
    with Stubber(c) as stub:
        stub.add_client_error("list_secrets", service_error_code="ThrottlingException")
        stub.add_response("list_secrets", {"SecretList": []})
        assert u.aws_retry(sleep=lambda _: None)(c.list_secrets)() == {"SecretList": [], }
        stub.assert_no_pending_responses()


def test_backoff_is_jittered_and_capped() -> None:
    delays = list(u.backoff_delays(8, base=1.0, cap=5.0, rng=random.Random(1)))
    assert len(delays) == 8 and max(delays) <= 5.0
    assert len(set(delays)) == 8  # jittered, not a fixed schedule


def test_one_central_list() -> None:
    assert u.is_retryable(client_error("RequestLimitExceeded"))
    assert not u.is_retryable(client_error("ResourceNotFoundException"))
    assert u.is_retryable(client_error("Custom"), frozenset({"Custom"}))
    assert u.is_access_denied(client_error("AccessDeniedException"))


def test_wait_until_returns_when_done_and_times_out() -> None:
    now = [0.0]
    values = iter([1, 2, 3, 4])
    seen: list[int] = []
    result = u.wait_until(lambda: next(values), lambda v: v == 3, timeout=10, interval=1,
                          on_progress=seen.append, clock=lambda: now[0],
                          sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert result == 3 and seen == [1, 2, 3]
    with pytest.raises(u.WaitTimeout) as timeout:
        u.wait_until(lambda: "pending", lambda v: False, timeout=3, interval=1, what="thing",
                     clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert timeout.value.last == "pending" and "waiting for thing" in str(timeout.value)


class FakeModule:
    def fail_json(self, **result: object) -> None:
        raise SystemExit(result)


def test_aws_errors_fail_the_module_with_their_code() -> None:
    with pytest.raises(SystemExit) as failed:
        u.fail_on_aws_error(FakeModule(), client_error("AccessDenied"), "ACM call failed", tables=[])
    assert failed.value.code == {"msg": "ACM call failed (AccessDenied): AccessDenied happened",
                                 "error_code": "AccessDenied", "tables": []}


def test_other_errors_are_raised_again() -> None:
    with pytest.raises(KeyError, match="bug"):
        u.fail_on_aws_error(FakeModule(), KeyError("bug"), "ACM call failed")
