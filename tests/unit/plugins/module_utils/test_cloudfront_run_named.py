"""module_utils/cloudfront.run_named: the entry point of the modules that manage one named
CloudFront resource (function, response headers policy, origin access control)."""
from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ansible_collections.autobuy.guard.plugins.modules import cloudfront_function as function
from ansible_collections.autobuy.guard.plugins.modules import cloudfront_origin_access_control as oac
from ansible_collections.autobuy.guard.plugins.modules import cloudfront_response_headers_policy as policy
from plugin_harness import ModuleFailed, run_module  # type: ignore[import-not-found]

AWS = {"region": "us-east-1", "access_key": "AKIDEXAMPLE", "secret_key": "not-a-real-secret"}


@pytest.mark.parametrize(("module", "content"), [(function, "code"), (policy, "config")])
def test_present_needs_the_resources_content(module: Any, content: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed, match=f"state is present but all of the following are missing: {content}"):
        run_module(module, {"name": "site", **AWS}, monkeypatch=monkeypatch)


@pytest.mark.parametrize(("module", "args", "kind"), [
    (function, {"code": "function handler(e) { return e.request; }"}, "function"),
    (policy, {"config": {}}, "response headers policy"),
    (oac, {}, "origin access control"),
])
def test_an_aws_error_names_the_resource_and_its_code(module: Any, args: dict[str, Any], kind: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(client: Any, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "Create")

    monkeypatch.setattr(module, "ensure", refused)
    with pytest.raises(ModuleFailed, match=f"Could not manage {kind} site \\(AccessDenied\\)"):
        run_module(module, {"name": "site", **args, **AWS}, monkeypatch=monkeypatch)


def test_check_mode_reaches_ensure(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []

    def ensure(client: Any, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
        seen.append(check_mode)
        return {"changed": True}

    monkeypatch.setattr(oac, "ensure", ensure)
    assert run_module(oac, {"name": "site", **AWS}, check_mode=True, monkeypatch=monkeypatch) == {"changed": True}
    assert seen == [True]
