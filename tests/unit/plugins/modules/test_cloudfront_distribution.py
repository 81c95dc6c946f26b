"""cloudfront_distribution, cloudfront_function and cloudfront_response_headers_policy against the local cloud: create, a change
seen and applied, nothing when equal, check mode, absent (disabled first), bad input."""
from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from ansible_collections.autobuy.guard.plugins.module_utils import cloudfront as cf_utils
from ansible_collections.autobuy.guard.plugins.modules import cloudfront_distribution as dist
from ansible_collections.autobuy.guard.plugins.modules import cloudfront_function as fn
from ansible_collections.autobuy.guard.plugins.modules import cloudfront_response_headers_policy as headers
from plugin_harness import ModuleFailed, run_module  # type: ignore[import-not-found]

SPA = "function handler(event) { return event.request; }"


def config(comment: str = "site") -> dict[str, Any]:
    return {"Comment": comment, "Enabled": True,
            "Origins": {"Items": [{"Id": "site", "DomainName": "b.s3.eu-central-1.amazonaws.com",
                                   "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                                     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}}


def test_quantities_are_counted() -> None:
    assert cf_utils.with_quantities({"Aliases": {"Items": ["a", "b"]}, "X": [{"Items": []}]}) == {
        "Aliases": {"Items": ["a", "b"], "Quantity": 2}, "X": [{"Items": [], "Quantity": 0}]}


def test_differences_name_the_changed_keys() -> None:
    current = {"A": {"Items": [{"Id": "x", "B": 1}], "Quantity": 1}, "Extra": "kept"}
    assert cf_utils.differences(current, {"A": {"Items": [{"Id": "x"}]}}) == []
    assert cf_utils.differences(current, {"A": {"Items": [{"Id": "x", "B": 2}]}}) == ["A.Items[0].B"]
    assert cf_utils.differences(current, {"A": {"Items": []}}) == ["A.Items"]
    assert cf_utils.differences({}, {"WebACLId": ""}) == []  # CloudFront leaves empty values out


def test_distribution_lifecycle(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = f"site-{uuid.uuid4().hex[:8]}"
    args = {"caller_reference": ref, "config": config(), "wait": True, "wait_timeout": 30,
            "tags": {"Project": "AutoBuyGuard"}}
    assert run_module(dist, args, check_mode=True, monkeypatch=monkeypatch)["changed"] is True
    created = run_module(dist, args, monkeypatch=monkeypatch)
    assert created["changed"] is True and created["status"] == "Deployed" and created["arn"].endswith(created["id"])
    again = run_module(dist, args, monkeypatch=monkeypatch)
    assert again["changed"] is False and again["differences"] == [] and again["id"] == created["id"]
    changed = {**args, "config": config("site v2")}
    assert run_module(dist, changed, check_mode=True, monkeypatch=monkeypatch)["differences"] == ["Comment"]
    assert run_module(dist, changed, monkeypatch=monkeypatch)["changed"] is True
    cf = boto3.client("cloudfront")
    assert cf.get_distribution_config(Id=created["id"])["DistributionConfig"]["Comment"] == "site v2"
    gone = {"caller_reference": ref, "state": "absent", "wait": True, "wait_timeout": 30}
    assert run_module(dist, gone, monkeypatch=monkeypatch)["changed"] is True
    assert created["id"] not in [d["Id"] for d in cf.list_distributions()["DistributionList"].get("Items") or []]
    assert run_module(dist, gone, monkeypatch=monkeypatch)["changed"] is False


def test_distribution_refuses_a_caller_reference_in_the_config(localcloud: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed, match="caller_reference"):
        run_module(dist, {"caller_reference": "x", "config": {**config(), "CallerReference": "y"}},
                   monkeypatch=monkeypatch)


def test_function_is_published_and_republished_when_changed(localcloud: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"spa-{uuid.uuid4().hex[:8]}"
    args = {"name": name, "code": SPA, "comment": "SPA routing"}
    assert run_module(fn, args, check_mode=True, monkeypatch=monkeypatch) == {"changed": True, "arn": ""}
    first = run_module(fn, args, monkeypatch=monkeypatch)
    assert first["changed"] is True and first["arn"].endswith(f"function/{name}")
    cf = boto3.client("cloudfront")
    assert cf.get_function(Name=name, Stage="LIVE")["FunctionCode"].read() == SPA.encode()
    assert run_module(fn, args, monkeypatch=monkeypatch)["changed"] is False
    newer = {**args, "code": SPA.replace("return", "/* v2 */ return")}
    assert run_module(fn, newer, check_mode=True, monkeypatch=monkeypatch)["changed"] is True
    assert cf.get_function(Name=name, Stage="LIVE")["FunctionCode"].read() == SPA.encode()  # check mode
    assert run_module(fn, newer, monkeypatch=monkeypatch)["changed"] is True
    assert cf.get_function(Name=name, Stage="LIVE")["FunctionCode"].read() == newer["code"].encode()
    assert run_module(fn, {"name": name, "state": "absent"}, monkeypatch=monkeypatch)["changed"] is True
    assert run_module(fn, {"name": name, "state": "absent"}, monkeypatch=monkeypatch)["changed"] is False


def test_function_refuses_a_bad_name(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed, match="name must be"):
        run_module(fn, {"name": "spa routing!", "code": SPA}, monkeypatch=monkeypatch)


def test_headers_policy_changes_only_when_its_configuration_does(localcloud: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"headers-{uuid.uuid4().hex[:8]}"
    wanted = {"Comment": "site", "SecurityHeadersConfig": {
        "ContentTypeOptions": {"Override": True},
        "ReferrerPolicy": {"Override": True, "ReferrerPolicy": "no-referrer"}}}
    args = {"name": name, "config": wanted}
    assert run_module(headers, args, check_mode=True, monkeypatch=monkeypatch)["id"] == ""
    created = run_module(headers, args, monkeypatch=monkeypatch)
    assert created["changed"] is True and created["id"]
    # check mode on the stored policy: no change, and the id a distribution needs
    assert run_module(headers, args, check_mode=True, monkeypatch=monkeypatch) == {
        "changed": False, "id": created["id"], "differences": []}
    assert run_module(headers, args, monkeypatch=monkeypatch)["changed"] is False
    stricter = {"name": name, "config": {**wanted, "SecurityHeadersConfig": {
        **wanted["SecurityHeadersConfig"], "ReferrerPolicy": {"Override": True, "ReferrerPolicy": "same-origin"}}}}
    updated = run_module(headers, stricter, monkeypatch=monkeypatch)
    assert updated["differences"] == ["SecurityHeadersConfig.ReferrerPolicy.ReferrerPolicy"]
    stored = boto3.client("cloudfront").get_response_headers_policy_config(Id=created["id"])
    assert stored["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ReferrerPolicy"]["ReferrerPolicy"] == "same-origin"
    assert run_module(headers, {"name": name, "state": "absent"}, monkeypatch=monkeypatch)["changed"] is True
    assert run_module(headers, {"name": name, "state": "absent"}, monkeypatch=monkeypatch)["changed"] is False
