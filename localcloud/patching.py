"""How a patch changes moto, written once: :func:`after_init` (a step after a model's
``__init__``), :func:`wrap` (a function replaced by one that calls it, once) and
:func:`answer` (handlers of the AWS actions moto lacks).

A fidelity patch often has to finish what moto's constructor left out (a default AWS
reports, a status AWS makes you wait for). :func:`after_init` wraps ``cls.__init__`` so
the patch's step runs after moto's own code, keeps the wrapped function's name and
docstring, and makes ``apply()`` idempotent: a patch already in place is not added again,
while different patches on one class stack (the later wraps the earlier).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

MARK = "_localcloud_patches"


def wrap(owner: type, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]],
         mark: str = "_localcloud") -> None:
    """Replace the function ``owner.name`` by ``make(original)``, once.

    The replacement keeps the original's name and docstring and carries ``mark``, so a
    second ``apply()`` leaves it alone; ``make`` gets moto's function (or the patch before
    this one) and returns the function that calls it.
    """
    original = getattr(owner, name)
    if getattr(original, mark, False):
        return
    replacement = functools.wraps(original)(make(original))
    setattr(replacement, mark, True)
    setattr(owner, name, replacement)


def answer(response_cls: type, *handlers: Callable[..., Any]) -> None:
    """Make moto's ``response_cls`` answer the AWS actions it lacks, one handler each.

    moto dispatches an action to the method of the response class named after it in
    snake_case (``StartInstanceRefresh`` -> ``start_instance_refresh``), so each handler
    is installed under its own ``__name__``. Installing again is harmless (idempotent).
    """
    for handler in handlers:
        setattr(response_cls, handler.__name__, handler)


def after_init(cls: type, patch: str, step: Callable[[Any], None]) -> None:
    """Make ``cls.__init__`` call ``step(self)`` after moto's own ``__init__``, once per ``patch``."""
    original = cls.__init__
    done: frozenset[str] = getattr(original, MARK, frozenset())
    if patch in done:
        return

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        step(self)

    setattr(__init__, MARK, done | {patch})
    cls.__init__ = __init__  # type: ignore[misc]
