# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudFront configurations in AWS's own shape: list quantities, and what differs."""
from __future__ import annotations

from typing import Any


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
