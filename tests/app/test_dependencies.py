"""Bulkhead, breaker and 503s for a failing dependency (issue 17), on in-process fakes.

The drills against a real MariaDB and gunicorn are in test_fault_drills.py.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any

import falcon.testing
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError

from autobuy.app import create_app, dependencies, guarded_stores
from autobuy.dependencies import Dependency, DependencyUnavailable, aws_failure, mysql_failure
from tests.app import helpers


def _mysql_down() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("(2013, 'Lost connection (timed out)')"))


class Faulty:
    """Forwards to ``target``; ``mode`` "down" raises like a dead MySQL, "hang" blocks."""

    def __init__(self, target: Any) -> None:
        self._target = target
        self.mode = "ok"
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.mode == "down":
                raise _mysql_down()
            if self.mode == "hang":
                self.release.wait(10)
                raise _mysql_down()
            return attr(*args, **kwargs)

        return call


def _dep(**kwargs: Any) -> Dependency:
    values = {"max_in_flight": 2, "cooldown": 0.3, "patience": 0.1, "classify": mysql_failure}
    values.update(kwargs)
    return Dependency("mysql", **values)


def test_failure_opens_the_breaker_then_one_probe_closes_it():
    dep = _dep()
    with pytest.raises(DependencyUnavailable) as failed:
        dep.call(lambda: (_ for _ in ()).throw(_mysql_down()))
    assert failed.value.dependency == "mysql" and failed.value.retry_after == 1
    assert isinstance(failed.value.__cause__, OperationalError)
    calls = []
    with pytest.raises(DependencyUnavailable, match="mysql unavailable: connection failed"):
        dep.call(calls.append, 1)  # refused at once while open: not called
    assert calls == [] and dep.state == "open" and dep.refused == 1
    time.sleep(0.35)
    assert dep.state == "half-open"
    assert dep.call(lambda: "ok") == "ok"
    assert dep.state == "closed"


def test_a_failed_probe_opens_it_again_and_others_wait_for_the_probe():
    dep = _dep()
    with pytest.raises(DependencyUnavailable):
        dep.call(lambda: (_ for _ in ()).throw(_mysql_down()))
    time.sleep(0.35)
    gate = threading.Event()
    outcome: list[str] = []

    def probe() -> None:
        def slow_failure():
            gate.wait(5)
            raise _mysql_down()
        try:
            dep.call(slow_failure)
        except DependencyUnavailable:
            outcome.append("probe failed")

    thread = threading.Thread(target=probe)
    thread.start()
    time.sleep(0.05)
    with pytest.raises(DependencyUnavailable, match="recovery being probed"):
        dep.call(lambda: "ok")
    gate.set()
    thread.join()
    assert outcome == ["probe failed"] and dep.state == "open"


def test_other_errors_pass_through_and_leave_it_closed():
    dep = _dep()
    with pytest.raises(IntegrityError):
        dep.call(lambda: (_ for _ in ()).throw(IntegrityError("INSERT", {}, Exception("dup"))))
    with pytest.raises(KeyError):
        dep.call(lambda: {}["x"])
    assert dep.state == "closed" and dep.failed == 0 and dep.in_flight == 0


def test_full_bulkhead_waits_for_fast_calls_but_refuses_at_once_behind_slow_ones():
    dep = _dep(patience=0.2)
    gate = threading.Event()
    holders = [threading.Thread(target=dep.call, args=(gate.wait, 5)) for _ in range(2)]
    for t in holders:
        t.start()
    time.sleep(0.3)  # both slots held longer than the patience: the dependency is slow
    started = time.monotonic()
    with pytest.raises(DependencyUnavailable, match="2 calls in flight"):
        dep.call(lambda: "never")
    assert time.monotonic() - started < 0.05
    gate.set()
    for t in holders:
        t.join()
    # Slots held briefly: a third call waits for one instead of failing.
    quick = threading.Event()
    short = [threading.Thread(target=dep.call, args=(quick.wait, 5)) for _ in range(2)]
    for t in short:
        t.start()
    threading.Timer(0.05, quick.set).start()
    time.sleep(0.01)
    assert dep.call(lambda: "served") == "served"
    for t in short:
        t.join()


def test_aws_failures_are_classified():
    throttled = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"},
                             "ResponseMetadata": {"HTTPStatusCode": 400}}, "Query")
    server = ClientError({"Error": {"Code": "InternalFailure"},
                          "ResponseMetadata": {"HTTPStatusCode": 500}}, "Query")
    condition = ClientError({"Error": {"Code": "ConditionalCheckFailedException"},
                             "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutItem")
    assert aws_failure(throttled) == "throttled"
    assert aws_failure(server) == "HTTP 500"
    assert aws_failure(ReadTimeoutError(endpoint_url="http://x")) == "timed out"
    assert aws_failure(condition) is None


def _guarded_client(settings, **faulty: Faulty):
    stores = helpers.memory_stores()
    for name, wrapper in faulty.items():
        wrapper._target = getattr(stores, name)
        setattr(stores, name, wrapper)
    stores = guarded_stores(stores, dependencies(settings))
    return falcon.testing.TestClient(create_app(settings, stores=stores))


def test_mysql_down_gives_503_naming_it_with_retry_after_never_500(settings):
    users = Faulty(None)
    client = _guarded_client(settings, users=users)
    signed = client.simulate_post("/v1/auth/dev", json={"email": "ana@example.com"}).json
    auth = {"Authorization": f"Bearer {signed['access_token']}"}
    assert client.simulate_get("/v1/me", headers=auth).status_code == 200
    users.mode = "down"
    for _ in range(3):  # the failing call, then refusals while the breaker is open
        result = client.simulate_get("/v1/me", headers=auth)
        assert result.status_code == 503, result.text
        assert int(result.headers["Retry-After"]) >= 1
        assert result.json["error"]["detail"].startswith("mysql unavailable")
        assert result.json["error"]["title"] == "Service unavailable"


def test_stripe_webhook_while_mysql_is_down_gets_503_so_stripe_retries(settings):
    billing = Faulty(None)
    client = _guarded_client(settings, billing=billing)
    billing.mode = "down"
    payload = json.dumps({"id": "evt_down_1", "type": "customer.subscription.deleted",
                          "data": {"object": {"id": "sub_1", "customer": "cus_1",
                                              "metadata": {}}}}).encode()
    result = client.simulate_post("/v1/billing/webhook", body=payload, headers={
        "Stripe-Signature": helpers.stripe_signature(payload), "Content-Type": "application/json"})
    assert result.status_code == 503 and "mysql" in result.json["error"]["detail"], result.text


def test_ready_answers_within_its_bound_naming_what_hangs(settings):
    users = Faulty(None)
    client = _guarded_client(settings, users=users)
    users.mode = "hang"
    try:
        for _ in range(3):  # repeated asks while it hangs: still bounded, one probe in flight
            started = time.monotonic()
            result = client.simulate_get("/ready")
            elapsed = time.monotonic() - started
            assert result.status_code == 503 and elapsed < 1.0, (result.text, elapsed)
            assert "mysql: timeout" in result.json["error"]["detail"]
            assert "dynamodb:" not in result.json["error"]["detail"]
    finally:
        users.release.set()


@pytest.mark.parametrize("name, value", [
    ("db_read_timeout_seconds", 0), ("db_connect_timeout_seconds", -1),
    ("db_pool_timeout_seconds", 60), ("aws_read_timeout_seconds", 0), ("aws_max_attempts", 0),
    ("dependency_max_in_flight", 0), ("dependency_cooldown_seconds", 0),
    ("ready_timeout_seconds", 1.5), ("stripe_timeout_seconds", 0), ("stripe_attempts", 9)])
def test_bad_bounds_are_refused_by_name(name, value):
    with pytest.raises(ValidationError) as refused:
        helpers.settings(**{name: value})
    assert name in str(refused.value)


def test_gunicorn_refuses_a_bulkhead_that_leaves_no_thread_for_health():
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "GUNICORN_THREADS": "4", "AUTOBUY_DEPENDENCY_MAX_IN_FLIGHT": "4",
           "PYTHONPATH": f"{ROOT / 'app'}"}
    proc = subprocess.run([sys.executable, "-c", "import autobuy.gunicorn_conf"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "AUTOBUY_DEPENDENCY_MAX_IN_FLIGHT" in proc.stderr and "GUNICORN_THREADS" in proc.stderr


def test_check_now_with_sqs_down_gives_503_naming_sqs(settings):
    from botocore.exceptions import EndpointConnectionError

    class DownQueue:
        def enqueue(self, user_id: str, item_id: str) -> None:
            raise EndpointConnectionError(endpoint_url="https://sqs.eu-central-1.amazonaws.com")

    stores = guarded_stores(helpers.memory_stores(queue=DownQueue()), dependencies(settings))
    client = falcon.testing.TestClient(create_app(settings, stores=stores))
    signed = client.simulate_post("/v1/auth/dev", json={"email": "ana@example.com"}).json
    auth = {"Authorization": f"Bearer {signed['access_token']}"}
    item = client.simulate_post("/v1/items", headers=auth, json={
        "url": "https://www.example-shop.de/p/1", "target_price": "9.99", "currency": "EUR"}).json
    result = client.simulate_post(f"/v1/items/{item['id']}/check", headers=auth)
    assert result.status_code == 503, result.text
    assert result.json["error"]["detail"] == "sqs unavailable: connection failed; retry after 2 s"
    assert result.headers["Retry-After"] == "2"
