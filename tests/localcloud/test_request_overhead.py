"""Request overhead gap fill: moto's per-request look-ups, cached, give the same answers."""
from __future__ import annotations

from moto import backends
from moto.core import utils

from localcloud.ext.speed import request_overhead


def test_moto_modules_listed_once_with_the_same_answer() -> None:
    calls = []

    def listing():
        calls.append(1)
        yield from ("dynamodb", "ec2")

    cached = request_overhead._once(listing)
    assert cached() == ("dynamodb", "ec2")
    assert "dynamodb" in cached() and "s3" not in cached()
    assert len(calls) == 1
    original = getattr(backends.list_of_moto_modules, "__wrapped__", backends.list_of_moto_modules)
    real = request_overhead._once(original)
    assert real() == tuple(original())
    assert "dynamodb" in real()


def test_method_names_cached_per_class_and_see_new_methods() -> None:
    original = getattr(utils.method_names_from_class, "__wrapped__", utils.method_names_from_class)
    names = request_overhead._per_class(original)

    class Handler:
        def query(self) -> None: ...

    class Sub(Handler):
        def scan(self) -> None: ...

    assert names(Sub) == original(Sub) == ["query", "scan"]
    first = names(Sub)
    first.append("mutated")  # callers get a copy
    assert names(Sub) == ["query", "scan"]
    Handler.get_item = lambda self: None  # a method added later, on a base class
    assert names(Sub) == original(Sub) == ["get_item", "query", "scan"]


def test_apply_is_idempotent_and_installs_both() -> None:
    from moto.core import responses

    request_overhead.apply()
    first = (backends.list_of_moto_modules, responses.method_names_from_class)
    request_overhead.apply()
    assert (backends.list_of_moto_modules, responses.method_names_from_class) == first
    assert all(getattr(f, "_localcloud", False) for f in first)
