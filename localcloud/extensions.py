"""Extensions to moto, applied once before the server starts.

Each module in ``localcloud/ext/`` fills one gap and exposes ``apply()``; this
function imports them all, in name order, so a new gap fill is one new file.
"""
from __future__ import annotations

import importlib
import pkgutil

from localcloud import ext

_applied = False


def apply() -> None:
    """Install every extension of the local cloud into moto (idempotent)."""
    global _applied
    if _applied:
        return
    for info in sorted(pkgutil.iter_modules(ext.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{ext.__name__}.{info.name}")
        module.apply()
    _applied = True
