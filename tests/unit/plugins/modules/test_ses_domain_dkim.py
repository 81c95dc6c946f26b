"""ses_domain_dkim against the local cloud: tokens once, records, check mode, absent, bad input."""
from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from ansible_collections.autobuy.guard.plugins.modules import ses_domain_dkim as dkim
from plugin_harness import ModuleFailed, run_module  # type: ignore[import-not-found]


def run(args: dict[str, Any], monkeypatch: pytest.MonkeyPatch, check: bool = False) -> dict[str, Any]:
    return run_module(dkim, args, check_mode=check, monkeypatch=monkeypatch)


def new_domain() -> str:
    domain = f"m{uuid.uuid4().hex[:10]}.example.org"
    boto3.client("ses").verify_domain_identity(Domain=domain)
    return domain


def test_tokens_once_and_their_records(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    domain = new_domain()
    first = run({"domain": domain}, monkeypatch)
    assert first["changed"] is True and first["enabled"] is True and len(first["tokens"]) == 3
    assert first["records"] == [{"name": f"{t}._domainkey.{domain}", "type": "CNAME",
                                 "value": f"{t}.dkim.amazonses.com"} for t in first["tokens"]]
    assert first["verification_status"] == "Pending"  # no records published yet
    again = run({"domain": domain.upper() + "."}, monkeypatch)
    assert again["changed"] is False and again["tokens"] == first["tokens"]


def test_check_mode_asks_for_nothing(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    domain = new_domain()
    result = run({"domain": domain}, monkeypatch, check=True)
    assert result["changed"] is True and result["records"] == []
    attributes = boto3.client("ses").get_identity_dkim_attributes(Identities=[domain])["DkimAttributes"]
    assert attributes[domain]["DkimVerificationStatus"] == "NotStarted"


def test_absent_turns_signing_off_once(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    domain = new_domain()
    run({"domain": domain}, monkeypatch)
    off = run({"domain": domain, "state": "absent"}, monkeypatch)
    assert off["changed"] is True and off["enabled"] is False
    assert run({"domain": domain, "state": "absent"}, monkeypatch)["changed"] is False
    assert run({"domain": domain}, monkeypatch)["changed"] is True  # back on, same tokens


def test_missing_identity_and_bad_domain_fail_clearly(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed, match="SES has no identity nowhere-.*create it first"):
        run({"domain": f"nowhere-{uuid.uuid4().hex[:6]}.example.org"}, monkeypatch)
    with pytest.raises(ModuleFailed, match="must be a domain name"):
        run({"domain": "alerts@example.org"}, monkeypatch)


def test_check_mode_before_the_identity_exists_reports_a_change(localcloud: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    result = run({"domain": f"later-{uuid.uuid4().hex[:6]}.example.org"}, monkeypatch, check=True)
    assert result["changed"] is True and result["records"] == []
