"""iam_oidc_provider against the local cloud: create once, update thumbprints and tags, check mode, absent."""
from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from ansible_collections.autobuy.guard.plugins.modules import iam_oidc_provider as provider
from plugin_harness import ModuleFailed, run_module  # type: ignore[import-not-found]

PRINT_A = "6938fd4d98bab03faadb97b34396831e3780aea1"
PRINT_B = "1c58a3a8518e8759bf075b76b750d4f2df264fcd"


def run(args: dict[str, Any], monkeypatch: pytest.MonkeyPatch, check: bool = False) -> dict[str, Any]:
    return run_module(provider, args, check_mode=check, monkeypatch=monkeypatch)


def issuer() -> str:
    return f"https://issuer-{uuid.uuid4().hex[:8]}.example.org"


def arns() -> list[str]:
    return [p["Arn"] for p in boto3.client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]]


def test_creates_once_then_reports_no_change(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = issuer()
    args = {"url": url, "client_ids": ["sts.amazonaws.com"], "thumbprints": [PRINT_A], "tags": {"Project": "x"}}
    planned = run(args, monkeypatch, check=True)
    assert planned["changed"] is True
    assert planned["arn"] not in arns()
    first = run(args, monkeypatch)
    assert first["changed"] is True and first["arn"] == planned["arn"]
    assert first["arn"] in arns()
    got = boto3.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=first["arn"])
    assert got["ClientIDList"] == ["sts.amazonaws.com"]
    assert got["ThumbprintList"] == [PRINT_A]
    assert run(args, monkeypatch)["changed"] is False


def test_updates_thumbprints_and_tags(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = issuer()
    base = {"url": url, "client_ids": ["sts.amazonaws.com"], "thumbprints": [PRINT_A], "tags": {"Old": "1"}}
    arn = run(base, monkeypatch)["arn"]
    changed = {**base, "thumbprints": [PRINT_A, PRINT_B], "tags": {"New": "2"}}
    assert run(changed, monkeypatch, check=True)["changed"] is True
    assert boto3.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ThumbprintList"] == [PRINT_A]
    assert run(changed, monkeypatch)["changed"] is True
    got = boto3.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert sorted(got["ThumbprintList"]) == sorted([PRINT_A, PRINT_B])
    assert {t["Key"]: t["Value"] for t in got.get("Tags", [])} == {"New": "2"}
    assert run(changed, monkeypatch)["changed"] is False


def test_absent_deletes_once(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = issuer()
    arn = run({"url": url, "client_ids": ["sts.amazonaws.com"]}, monkeypatch)["arn"]
    assert run({"url": url, "state": "absent"}, monkeypatch, check=True)["changed"] is True
    assert arn in arns()
    assert run({"url": url, "state": "absent"}, monkeypatch)["changed"] is True
    assert arn not in arns()
    assert run({"url": url, "state": "absent"}, monkeypatch) == {"changed": False, "arn": None}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"url": "http://issuer.example.org", "client_ids": ["a"]}, "url must be an https:// issuer URL"),
        ({"url": "https://issuer.example.org"}, "client_ids must list at least one audience"),
        ({"url": "https://issuer.example.org", "client_ids": ["a"], "thumbprints": ["abc"]},
         "thumbprints must be 40 hexadecimal digits: abc"),
    ],
)
def test_bad_input_fails_before_any_call(args: dict[str, Any], message: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed) as failed:
        run(args, monkeypatch)
    assert message in str(failed.value.result["msg"])
