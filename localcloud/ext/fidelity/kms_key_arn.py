"""KMS: key state actions accept the key's ARN as well as its id, as AWS does.

moto's backend indexes its keys by id in ``EnableKey``, ``DisableKey``,
``CancelKeyDeletion`` and ``ScheduleKeyDeletion``, so a key ARN (what
``amazon.aws.kms_key`` passes) fails with a KeyError (HTTP 500). The wrappers turn an
ARN into the id first, with moto's own ``get_key_id``.
"""
from __future__ import annotations

from typing import Any, Callable

from moto.kms.models import KmsBackend

ACTIONS = ("enable_key", "disable_key", "cancel_key_deletion", "schedule_key_deletion")


def _by_id(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: KmsBackend, key_id: str, *args: Any, **kwargs: Any) -> Any:
        return method(self, self.get_key_id(key_id), *args, **kwargs)

    wrapper._localcloud = True  # type: ignore[attr-defined]
    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


def apply() -> None:
    for name in ACTIONS:
        method = getattr(KmsBackend, name)
        if not getattr(method, "_localcloud", False):
            setattr(KmsBackend, name, _by_id(method))
