"""sns_topic_encryption against the local cloud: encrypt once, check mode, absent, bad input."""
from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from ansible_collections.autobuy.guard.plugins.modules import sns_topic_encryption as sse
from plugin_harness import ModuleFailed, run_module  # type: ignore[import-not-found]


def run(args: dict[str, Any], monkeypatch: pytest.MonkeyPatch, check: bool = False) -> dict[str, Any]:
    return run_module(sse, args, check_mode=check, monkeypatch=monkeypatch)


def make_topic() -> str:
    return boto3.client("sns").create_topic(Name=f"t-{uuid.uuid4().hex[:10]}")["TopicArn"]


def key_of(topic_arn: str) -> str:
    attributes = boto3.client("sns").get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    return attributes.get("KmsMasterKeyId", "")


def test_encrypts_once(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    topic = make_topic()
    assert key_of(topic) == ""
    first = run({"topic_arn": topic, "kms_key_id": "alias/aws/sns"}, monkeypatch)
    assert first["changed"] is True and first["kms_key_id"] == "alias/aws/sns"
    assert key_of(topic) == "alias/aws/sns"
    assert run({"topic_arn": topic, "kms_key_id": "alias/aws/sns"}, monkeypatch)["changed"] is False


def test_another_key_is_a_change(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    topic = make_topic()
    run({"topic_arn": topic, "kms_key_id": "alias/aws/sns"}, monkeypatch)
    key = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    assert run({"topic_arn": topic, "kms_key_id": key}, monkeypatch)["changed"] is True
    assert key_of(topic) == key


def test_check_mode_changes_nothing(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    topic = make_topic()
    result = run({"topic_arn": topic, "kms_key_id": "alias/aws/sns"}, monkeypatch, check=True)
    assert result["changed"] is True
    assert key_of(topic) == ""


def test_absent_removes_the_key_once(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    topic = make_topic()
    run({"topic_arn": topic, "kms_key_id": "alias/aws/sns"}, monkeypatch)
    assert run({"topic_arn": topic, "state": "absent"}, monkeypatch)["changed"] is True
    assert key_of(topic) == ""
    assert run({"topic_arn": topic, "state": "absent"}, monkeypatch)["changed"] is False


def test_present_without_a_key_fails_before_any_call(localcloud: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed, match="kms_key_id is required"):
        run({"topic_arn": "arn:aws:sns:eu-central-1:123456789012:none"}, monkeypatch)


def test_a_missing_topic_fails_with_its_arn(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = "arn:aws:sns:eu-central-1:123456789012:no-such-topic"
    with pytest.raises(ModuleFailed, match="no-such-topic"):
        run({"topic_arn": missing, "kms_key_id": "alias/aws/sns"}, monkeypatch)
