"""ebs_encryption_default against the local cloud: on, idempotence, check mode, off."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from ansible_collections.autobuy.guard.plugins.modules import ebs_encryption_default as ebs
from plugin_harness import run_module  # type: ignore[import-not-found]


def run(args: dict[str, Any], monkeypatch: pytest.MonkeyPatch, check: bool = False) -> dict[str, Any]:
    return run_module(ebs, args, check_mode=check, monkeypatch=monkeypatch)


def enabled() -> bool:
    return boto3.client("ec2").get_ebs_encryption_by_default()["EbsEncryptionByDefault"]


@pytest.fixture
def ebs_default_off(localcloud: str) -> Iterator[None]:
    """The account setting starts off and is left off (it is shared by the session's cloud)."""
    boto3.client("ec2").disable_ebs_encryption_by_default()
    yield
    boto3.client("ec2").disable_ebs_encryption_by_default()


def test_turns_encryption_on_once(ebs_default_off: None, monkeypatch: pytest.MonkeyPatch) -> None:
    first = run({}, monkeypatch)
    assert first["changed"] is True and first["enabled"] is True
    assert enabled()
    again = run({"state": "present"}, monkeypatch)
    assert again["changed"] is False
    assert enabled()


def test_check_mode_reports_the_change_and_makes_none(ebs_default_off: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    result = run({}, monkeypatch, check=True)
    assert result["changed"] is True and result["enabled"] is True
    assert not enabled()


def test_absent_turns_it_off_once(ebs_default_off: None, monkeypatch: pytest.MonkeyPatch) -> None:
    run({}, monkeypatch)
    off = run({"state": "absent"}, monkeypatch)
    assert off["changed"] is True and off["enabled"] is False
    assert not enabled()
    assert run({"state": "absent"}, monkeypatch)["changed"] is False
