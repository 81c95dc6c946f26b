"""The module object of the collection's AWS modules: connection options, failures."""
from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import (
    AutobuyAWSModule,
    ModuleFailure,
)
from plugin_harness import ModuleFailed, run_module  # type: ignore[import-not-found]


def module_running(body: Callable[[AutobuyAWSModule], None]) -> ModuleType:
    """A module whose main() builds an AutobuyAWSModule with one own option, runs ``body``
    as the real modules do (failures through fail_on_error) and exits with its params."""
    def main() -> None:
        module = AutobuyAWSModule(argument_spec={"name": {"type": "str", "required": True}},
                                  supports_check_mode=True)
        try:
            body(module)
        except Exception as exc:  # noqa: BLE001 - what the modules do
            module.fail_on_error(exc, "Could not do it", partial=[1])
        module.exit_json(changed=False, params=module.params)

    fake = ModuleType("fake_module")
    fake.main = main  # type: ignore[attr-defined]
    return fake


def test_connection_options_are_taken_besides_the_modules_own(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_module(module_running(lambda m: None),
                        {"name": "x", "region": "eu-central-1", "aws_endpoint_url": "http://127.0.0.1:1"},
                        monkeypatch=monkeypatch)
    assert result["params"]["name"] == "x"
    assert result["params"]["region"] == "eu-central-1"
    assert result["params"]["endpoint_url"] == "http://127.0.0.1:1"


def test_unknown_option_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed, match="Unsupported parameters"):
        run_module(module_running(lambda m: None), {"name": "x", "regoin": "eu-central-1"},
                   monkeypatch=monkeypatch)


def test_module_failure_is_reported_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    def body(module: Any) -> None:
        raise ModuleFailure("kms_key_id is required when state=present")

    with pytest.raises(ModuleFailed) as failed:
        run_module(module_running(body), {"name": "x"}, monkeypatch=monkeypatch)
    assert failed.value.result == {"msg": "kms_key_id is required when state=present", "failed": True}


def test_aws_error_names_its_code_and_keeps_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    def body(module: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeTable")

    with pytest.raises(ModuleFailed) as failed:
        run_module(module_running(body), {"name": "x"}, monkeypatch=monkeypatch)
    assert failed.value.result == {"msg": "Could not do it (AccessDenied): no", "failed": True,
                                   "error_code": "AccessDenied", "partial": [1]}


def test_other_errors_are_raised_again(monkeypatch: pytest.MonkeyPatch) -> None:
    def body(module: Any) -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError, match="bug"):
        run_module(module_running(body), {"name": "x"}, monkeypatch=monkeypatch)


def test_bad_connection_settings_fail_the_task_when_a_client_is_made(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed, match=r"endpoint_url must be an http\(s\) URL"):
        run_module(module_running(lambda m: m.client("sts")),
                   {"name": "x", "endpoint_url": "127.0.0.1:4566"}, monkeypatch=monkeypatch)
