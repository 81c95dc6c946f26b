"""Every request: two look-ups moto repeats per request are done once.

cProfile of a DynamoDB ``Query`` on the local cloud (issue 5 §6) showed, besides the
DynamoDB work, fixed costs of moto's request dispatch:

* ``moto.backends.list_of_moto_modules()`` lists moto's package directory and
  ``stat``s its ~190 entries, on every request (``DomainDispatcherApplication``
  asks whether the service name is a moto module). The installed package does not
  change while the server runs: the answer is computed once.
* ``moto.core.utils.method_names_from_class`` runs ``inspect.getmembers`` over the
  response handler class (hundreds of attributes) to check that the action is a
  method, on every request. The names are cached per class, keyed by the sizes of
  the class dictionaries along its MRO, so a method added later is still seen.

Behaviour is unchanged: the same values, computed less often.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["apply"]


def _once(original: Callable[[], Iterable[str]]) -> Callable[[], tuple[str, ...]]:
    found: list[tuple[str, ...]] = []

    @functools.wraps(original)
    def list_of_moto_modules() -> tuple[str, ...]:
        if not found:
            found.append(tuple(original()))
        return found[0]

    list_of_moto_modules._localcloud = True  # type: ignore[attr-defined]
    return list_of_moto_modules


def _per_class(original: Callable[[Any], list[str]]) -> Callable[[Any], list[str]]:
    cache: dict[type, tuple[tuple[int, ...], list[str]]] = {}

    @functools.wraps(original)
    def method_names_from_class(clazz: Any) -> list[str]:
        if not isinstance(clazz, type):
            return original(clazz)
        shape = tuple(len(c.__dict__) for c in clazz.__mro__)
        hit = cache.get(clazz)
        if hit is None or hit[0] != shape:
            hit = cache[clazz] = (shape, original(clazz))
        return list(hit[1])

    method_names_from_class._localcloud = True  # type: ignore[attr-defined]
    return method_names_from_class


def apply() -> None:
    from moto import backends
    from moto.core import responses

    if not getattr(backends.list_of_moto_modules, "_localcloud", False):
        backends.list_of_moto_modules = _once(backends.list_of_moto_modules)  # type: ignore[assignment]
    if not getattr(responses.method_names_from_class, "_localcloud", False):
        responses.method_names_from_class = _per_class(responses.method_names_from_class)
