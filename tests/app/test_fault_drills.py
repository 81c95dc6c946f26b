"""Fault drills (issue 17): the API under gunicorn with its own MariaDB and local cloud,
20 req/s of mixed traffic, a dependency frozen, killed or slowed for a few seconds.

The faults are shorter than bench/faults.py's (60 s); the assertions are the issue's
targets with headroom for a shared 2-core machine where a figure must hold: /health keeps
answering (no failure, p99 well under the ALB's 5 s timeout; the bench reports the
100 ms target), the dependency's calls answer 503 (never 500, never a hang) within 3 s,
recovery within 5 s of the dependency's return, and no write answered done is lost.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.app.support.drills import DB_KINDS, DYNAMO_KINDS, DrillStack, run_drill

pytestmark = pytest.mark.slow

HEALTH_P99_MS = 500  # the target is 100 ms (bench/faults.py); headroom for a loaded machine


@pytest.fixture(scope="module")
def drill_stack(tmp_path_factory):
    if not (shutil.which("mariadbd") or Path("/usr/sbin/mariadbd").exists()):
        pytest.skip("MariaDB is not installed (scripts/system-deps.sh mariadb)")
    with DrillStack(tmp_path_factory.mktemp("drill")) as stack:
        yield stack


def _check(figures: dict, kinds: tuple[str, ...]) -> None:
    during = figures["during_fault"]
    assert figures["health_failures"] == 0, figures
    assert figures["health"]["p99_ms"] < HEALTH_P99_MS, figures
    assert figures["server_errors"] == 0 and figures["no_answer"] == 0, figures
    assert figures["instances_replaced"] == 0
    for kind in kinds:
        codes = during[kind]["codes"]
        assert set(codes) <= {"200", "201", "403", "503"}, figures
        assert during[kind]["max_ms"] < 3000, figures
    assert figures["during_fault_all"]["codes"].get("503", 0) > 0, figures
    assert figures["retry_after"] is not None and int(figures["retry_after"]) >= 1
    assert figures["recovery_seconds"] < 5, figures
    assert figures["after_fault_ok"] > 0
    writes = figures["writes"]
    assert writes["users_lost"] == 0 and writes["items_lost"] == 0, writes


def test_database_frozen(drill_stack):
    figures = run_drill(drill_stack, name="freeze", inject=drill_stack.freeze_db,
                        restore=drill_stack.thaw_db, fault_seconds=8, kinds=DB_KINDS)
    _check(figures, DB_KINDS)
    assert "mysql unavailable" in figures["sample_503"]


def test_database_killed_and_restarted(drill_stack):
    figures = run_drill(drill_stack, name="kill", inject=drill_stack.kill_db,
                        restore=drill_stack.restart_db, fault_seconds=5, kinds=DB_KINDS)
    _check(figures, DB_KINDS)
    assert "mysql unavailable" in figures["sample_503"]


@pytest.mark.parametrize("mode, delay", [("slow", 5.0), ("throttle", 0.0), ("error", 0.0)])
def test_dynamodb_slow_throttled_or_failing(drill_stack, mode, delay):
    figures = run_drill(drill_stack, name=f"dynamo-{mode}",
                        inject=lambda: drill_stack.proxy.set(mode, delay),
                        restore=lambda: drill_stack.proxy.set("pass"), fault_seconds=6,
                        kinds=DYNAMO_KINDS)
    _check(figures, DYNAMO_KINDS)
    assert "dynamodb unavailable" in figures["sample_503"]


def test_a_burst_against_a_frozen_database_leaves_health_answering(drill_stack):
    """The issue's report: a dozen requests waiting on a frozen database took /health down.
    Here 48 at once (more than 2 workers x 4 threads can hold), then /health is asked."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.app.support.drills import request

    token = drill_stack.sign_in("burst@example.com")
    drill_stack.freeze_db()
    try:
        with ThreadPoolExecutor(max_workers=48) as pool:
            burst = [pool.submit(request, drill_stack.url, "GET", "/v1/me", None, token)
                     for _ in range(48)]
            health = [request(drill_stack.url, "GET", "/health") for _ in range(20)]
            answers = [f.result() for f in burst]
    finally:
        drill_stack.thaw_db()
    assert all(status == 200 for status, _, _ in health), health
    assert max(seconds for _, _, seconds in health) < 1.0, [s for _, _, s in health]
    assert {status for status, _, _ in answers} == {503}
    assert max(seconds for _, _, seconds in answers) < 3.0, sorted(s for _, _, s in answers)[-5:]


def test_stripe_webhook_while_the_database_is_frozen_gets_503_then_the_retry_applies(drill_stack):
    """Stripe retries a webhook answered 5xx: the event must not be acknowledged (2xx)
    while it cannot be stored, and its retry after the database returns must apply it."""
    import http.client
    import json
    import time

    from tests.app import helpers

    token = drill_stack.sign_in("webhook-drill@example.com")
    _, me, _ = drill_stack.request("GET", "/v1/me", token=token)
    user_id = me["user"]["id"]
    payload = json.dumps({"id": "evt_drill_1", "type": "customer.subscription.created",
                          "data": {"object": {
                              "id": "sub_drill_1", "customer": "cus_drill_1", "status": "active",
                              "metadata": {"user_id": user_id},
                              "items": {"data": [{"price": {"id": "price_autobuy_pro",
                                                            "unit_amount": 900,
                                                            "currency": "eur"}}]}}}}).encode()

    def deliver() -> tuple[int, float]:
        secret = drill_stack.env["AUTOBUY_STRIPE_WEBHOOK_SECRET"]
        conn = http.client.HTTPConnection("127.0.0.1", drill_stack.port, timeout=30)
        started = time.monotonic()
        conn.request("POST", "/v1/billing/webhook", body=payload, headers={
            "Content-Type": "application/json",
            "Stripe-Signature": helpers.stripe_signature(payload, secret)})
        status = conn.getresponse().status
        conn.close()
        return status, time.monotonic() - started

    drill_stack.freeze_db()
    try:
        status, seconds = deliver()
    finally:
        drill_stack.thaw_db()
    assert status == 503 and seconds < 3.0, (status, seconds)
    deadline = time.monotonic() + 10  # Stripe's retry, once the database is back
    while (status := deliver()[0]) == 503 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert status == 200
    deadline = time.monotonic() + 5  # each gunicorn worker recovers on its own (its breaker)
    while (got := drill_stack.request("GET", "/v1/billing", token=token))[0] == 503:
        assert time.monotonic() < deadline, got
        time.sleep(0.2)
    assert got[0] == 200 and got[1]["tier"] == "pro", got
