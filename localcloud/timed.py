"""Statuses that change with time, for resources AWS makes you wait for.

``TimedStatus`` replaces a plain status attribute of a moto model class (e.g.
``DBInstance.status``) with a descriptor: a resource created in the *pending*
status reads as *ready* once its deadline has passed (and an optional
condition holds). Writes by moto (stop, start, delete, ...) are stored as
before, so every other transition keeps working. :func:`wait_after_create` installs
one on a class and starts each new resource's clock.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from localcloud.patching import after_init

DEADLINE = "_localcloud_ready_at"
_CHECKING = "_localcloud_checking"


class TimedStatus:
    """Data descriptor: ``pending`` becomes ``ready`` after the object's deadline."""

    def __init__(
        self,
        name: str,
        pending: str,
        ready: str,
        condition: Callable[[Any], bool] | None = None,
    ) -> None:
        self._key = f"_localcloud_{name}"
        self._pending = pending
        self._ready = ready
        self._condition = condition

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__.get(self._key)
        deadline = obj.__dict__.get(DEADLINE)
        if value != self._pending or deadline is None or time.monotonic() < deadline:
            return value
        if obj.__dict__.get(_CHECKING):
            return value  # the condition itself reads the status
        obj.__dict__[_CHECKING] = True
        try:
            if self._condition is None or self._condition(obj):
                value = obj.__dict__[self._key] = self._ready
        finally:
            obj.__dict__[_CHECKING] = False
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self._key] = value


def start_clock(obj: Any, seconds: float) -> None:
    """Make ``obj``'s pending status turn ready ``seconds`` from now."""
    obj.__dict__[DEADLINE] = time.monotonic() + seconds


def installed(cls: type, name: str) -> bool:
    """True when ``cls.name`` is already a ``TimedStatus`` (apply() is idempotent)."""
    return isinstance(cls.__dict__.get(name), TimedStatus)


def wait_after_create(
    cls: type,
    name: str,
    pending: str,
    ready: str,
    seconds: Callable[[], float],
    *,
    created: str,
    condition: Callable[[Any], bool] | None = None,
) -> None:
    """Make ``cls.<name>`` a :class:`TimedStatus`: a resource moto creates in status
    ``created`` reads ``pending`` for ``seconds()`` (read at each creation), then ``ready``
    (once ``condition`` holds too). Idempotent."""
    if installed(cls, name):
        return
    setattr(cls, name, TimedStatus(name, pending, ready, condition=condition))

    def start(obj: Any) -> None:
        if getattr(obj, name) == created:
            setattr(obj, name, pending)
        start_clock(obj, seconds())

    after_init(cls, f"timed {name}", start)
