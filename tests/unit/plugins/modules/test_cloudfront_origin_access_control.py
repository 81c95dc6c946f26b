"""cloudfront_origin_access_control against the local cloud: create once, update, check mode,
absent, bad input."""
from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from ansible_collections.autobuy.guard.plugins.modules import cloudfront_origin_access_control as oac
from plugin_harness import ModuleFailed, run_module  # type: ignore[import-not-found]


def run(args: dict[str, Any], monkeypatch: pytest.MonkeyPatch, check: bool = False) -> dict[str, Any]:
    return run_module(oac, args, check_mode=check, monkeypatch=monkeypatch)


def controls() -> dict[str, dict[str, Any]]:
    items = boto3.client("cloudfront").list_origin_access_controls()["OriginAccessControlList"].get("Items") or []
    return {c["Name"]: c for c in items}


def test_creates_once_then_updates(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"site-{uuid.uuid4().hex[:8]}"
    first = run({"name": name, "description": "site bucket"}, monkeypatch)
    assert first["changed"] is True and first["id"]
    stored = controls()[name]
    assert (stored["Id"], stored["SigningBehavior"], stored["SigningProtocol"],
            stored["OriginAccessControlOriginType"]) == (first["id"], "always", "sigv4", "s3")
    again = run({"name": name, "description": "site bucket"}, monkeypatch)
    assert again == {**again, "changed": False, "id": first["id"]}
    changed = run({"name": name, "description": "site bucket", "signing_behavior": "no-override"}, monkeypatch)
    assert changed["changed"] is True and controls()[name]["SigningBehavior"] == "no-override"


def test_check_mode_changes_nothing(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"check-{uuid.uuid4().hex[:8]}"
    assert run({"name": name}, monkeypatch, check=True)["changed"] is True
    assert name not in controls()


def test_absent_deletes_once(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"gone-{uuid.uuid4().hex[:8]}"
    run({"name": name}, monkeypatch)
    assert run({"name": name, "state": "absent"}, monkeypatch)["changed"] is True
    assert name not in controls()
    assert run({"name": name, "state": "absent"}, monkeypatch)["changed"] is False


def test_a_name_too_long_is_refused(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed, match="name must be 1-64 characters"):
        run({"name": "x" * 65}, monkeypatch)
