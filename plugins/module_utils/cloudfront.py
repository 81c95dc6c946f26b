# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudFront configurations in AWS's own shape (list quantities, and what differs), and
the entry point of the modules that manage one named CloudFront resource."""
from __future__ import annotations

from typing import Any, Callable

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import AutobuyAWSModule


def run_named(argument_spec: dict[str, Any], ensure: Callable[[Any, dict[str, Any], bool], dict[str, Any]],
              kind: str, content: str | None = None) -> None:
    """Run a module that manages one named CloudFront ``kind`` (its ``name`` option, and
    ``state``) with ``ensure``, as :meth:`AutobuyAWSModule.run` does; check mode is supported.
    ``content`` names the option that ``state=present`` requires (the resource's code or
    configuration). An error names the resource: ``Could not manage KIND NAME``."""
    module = AutobuyAWSModule(argument_spec=argument_spec, supports_check_mode=True,
                              required_if=[("state", "present", [content])] if content else None)
    module.run("cloudfront", ensure, f"Could not manage {kind} {module.params['name']}")


def with_quantities(value: Any) -> Any:
    """``value`` with ``Quantity`` beside every ``Items`` list (CloudFront's list shape)."""
    if isinstance(value, dict):
        out = {key: with_quantities(item) for key, item in value.items()}
        if isinstance(out.get("Items"), list):
            out["Quantity"] = len(out["Items"])
        return out
    if isinstance(value, list):
        return [with_quantities(item) for item in value]
    return value


def covers(current: Any, want: Any) -> bool:
    """Whether ``current`` already has every key and value of ``want`` (lists in order)."""
    if isinstance(want, dict):
        return isinstance(current, dict) and all(covers(current.get(k), v) for k, v in want.items())
    if isinstance(want, list):
        return (isinstance(current, list) and len(current) == len(want)
                and all(covers(c, w) for c, w in zip(current, want)))
    if current is None and want in ("", [], {}, False, 0):
        return True  # CloudFront leaves empty values out of what it returns
    return current == want


def differences(current: Any, want: Any, path: str = "") -> list[str]:
    """The paths (``Origins.Items[0].Id``) where ``current`` does not cover ``want``."""
    if isinstance(want, dict) and isinstance(current, dict):
        return [d for k, v in want.items() for d in differences(current.get(k), v, f"{path}.{k}".lstrip("."))]
    if isinstance(want, list) and isinstance(current, list) and len(current) == len(want):
        return [d for i, (c, w) in enumerate(zip(current, want)) for d in differences(c, w, f"{path}[{i}]")]
    return [] if covers(current, want) else [path or "."]
