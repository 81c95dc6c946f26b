"""The check pipeline, scheduler and worker with in-memory stores and a scripted fetcher."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from decimal import Decimal

import pytest

from autobuy.contract import due_shard as shard_of
from autobuy.engine.alerts import AlertRule, AlertState
from autobuy.engine.checks import CheckPolicy, CheckService
from autobuy.engine.consumer import Worker
from autobuy.engine.fetch import FetchResult
from autobuy.engine.orders import OrderPolicy, OrderService
from autobuy.engine.scheduler import Scheduler
from autobuy.engine.store import EngineItem, MemoryEngineStore

from tests.app.support.doubles import Clock, MemoryChecksQueue, Purchaser, RecordingNotifier

NOW = 1_764_000_000
URL = "https://www.shop-beispiel.de/p/1"


def page(price: str, availability: str = "InStock") -> bytes:
    ld = json.dumps({"@context": "https://schema.org", "@type": "Product", "offers": {
        "@type": "Offer", "price": price, "priceCurrency": "EUR",
        "availability": f"https://schema.org/{availability}"}})
    return (f'<html lang="de"><head><script type="application/ld+json">{ld}</script></head>'
            f"<body>{'<p>Text</p>' * 100}</body></html>").encode()


CAPTCHA = b"<html><title>Robot Check</title><form action='/errors/validateCaptcha'>" + b"." * 900


class ScriptedFetcher:
    def __init__(self, answers: list[FetchResult]) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def fetch(self, url: str) -> FetchResult:
        self.calls += 1
        await asyncio.sleep(0)
        return self.answers.pop(0)


def ok(body: bytes) -> FetchResult:
    return FetchResult(URL, "ok", 200, body)


def setup(answers: list[FetchResult], *, tier: str = "ultra", auto_buy: bool = True):  # noqa: ANN201
    store = MemoryEngineStore(tiers={"u1": tier})
    store.add_item(EngineItem("i1", "u1", URL, AlertRule(Decimal("100"), "EUR"), AlertState(),
                              auto_buy=auto_buy))
    clock = Clock(NOW)
    notifier = RecordingNotifier()
    orders = OrderService(store, Purchaser(), OrderPolicy(), clock)
    service = CheckService(store, ScriptedFetcher(answers), notifier, orders,
                           CheckPolicy(auto_confirm=False), owner="w1", clock=clock)
    return service, store, notifier, clock


def run_checks(service: CheckService, clock: Clock, n: int) -> list[str]:
    outcomes = []
    for _ in range(n):
        outcomes.append(asyncio.run(service.check("i1", "u1")))
        clock.now += 900
    return outcomes


def test_successful_checks_write_history_and_current_price() -> None:
    service, store, notifier, clock = setup([ok(page("120.00")), ok(page("110.00"))])
    assert run_checks(service, clock, 2) == ["ok", "ok"]
    item = store.get_item("i1", "u1")
    assert item.current_price == Decimal("110.00") and item.last_checked == NOW + 900
    assert [r.price for r in store.history["i1"]] == [Decimal("120.00"), Decimal("110.00")]
    assert item.lease_owner is None
    assert NOW + 900 + 15 * 60 * 0.9 <= item.next_check_at <= NOW + 900 + 15 * 60 * 1.1
    assert notifier.sent == []


def test_crossing_alerts_once_and_creates_one_order() -> None:
    service, store, notifier, clock = setup(
        [ok(page("120")), ok(page("95")), ok(page("90")), ok(page("130")), ok(page("99"))])
    run_checks(service, clock, 5)
    assert [(a["kind"], a["price"], a["crossing"]) for a in notifier.sent] == [
        ("price", "95", 1), ("price", "99", 2)]
    assert len(store.alerts) == 2
    assert all(a.deliveries == {"recorded": "sent"} for a in store.alerts.values())
    orders = store.list_for_user("u1")
    assert sorted(o.idempotency_key for o in orders) == ["i1:1", "i1:2"]
    assert {o.state for o in orders} == {"pending"}


def test_blocked_and_failed_checks_never_alert_nor_record_a_price() -> None:
    service, store, notifier, clock = setup([
        ok(CAPTCHA), FetchResult(URL, "blocked", 503, b"", "Cloudflare challenge"),
        FetchResult(URL, "failed", None, b"", "network error: ConnectError"),
        ok(b"<html><body>" + b"<p>no price here</p>" * 60 + b"</body></html>")])
    assert run_checks(service, clock, 4) == ["blocked", "blocked", "failed", "failed"]
    assert notifier.sent == [] and store.history == {} and store.list_for_user("u1") == []
    item = store.get_item("i1", "u1")
    assert item.current_price is None and item.fail_streak == 4


def test_failures_back_off() -> None:
    service, store, _, clock = setup([ok(CAPTCHA), ok(CAPTCHA)])
    asyncio.run(service.check("i1", "u1"))
    first = store.get_item("i1", "u1").next_check_at - NOW
    asyncio.run(service.check("i1", "u1"))
    second = store.get_item("i1", "u1").next_check_at - NOW
    assert first == 30 * 60 and second == 60 * 60


@pytest.mark.parametrize(("tier", "auto_buy"), [("pro", True), ("ultra", False)])
def test_no_order_without_ultra_tier_and_opt_in(tier: str, auto_buy: bool) -> None:
    service, store, notifier, clock = setup([ok(page("90"))], tier=tier, auto_buy=auto_buy)
    run_checks(service, clock, 1)
    assert len(notifier.sent) == 1 and store.list_for_user("u1") == []


def test_at_most_one_check_in_flight_per_item() -> None:
    service, store, _, _ = setup([ok(page("120")), ok(page("120"))])

    async def both() -> list[str]:
        return await asyncio.gather(service.check("i1", "u1"), service.check("i1", "u1"))

    assert sorted(asyncio.run(both())) == ["ok", "skipped"]
    assert len(store.history["i1"]) == 1


def test_lost_lease_drops_the_result() -> None:
    service, store, notifier, _ = setup([ok(page("90"))])

    class Thief:
        async def fetch(self, url: str) -> FetchResult:
            item = store.items[("i1", "u1")]
            store.items[("i1", "u1")] = replace(item, lease_owner="other-worker")
            return ok(page("90"))

    service = replace(service, fetcher=Thief())  # a lease taken over mid-check
    assert asyncio.run(service.check("i1", "u1")) == "skipped"
    assert notifier.sent == [] and "i1" not in store.history


def test_scheduler_enqueues_each_due_item_once() -> None:
    store = MemoryEngineStore()
    for n in range(50):
        store.add_item(EngineItem(f"item-{n}", "u1", URL, AlertRule(Decimal("1"), "EUR"),
                                  AlertState(), next_check_at=NOW - n if n < 30 else NOW + 60))
    queue = MemoryChecksQueue()
    clock = Clock(NOW)
    scheduler = Scheduler(store, queue, clock=clock)
    assert scheduler.tick() == 30
    assert scheduler.tick() == 0  # postponed by the lease, not enqueued twice
    bodies = [json.loads(b) for _, b in queue.receive(100)]
    assert {b["itemId"] for b in bodies} == {f"item-{n}" for n in range(30)}
    assert {b["reason"] for b in bodies} == {"scheduled"}
    assert {shard_of(f"item-{n}") for n in range(50)} <= {str(s) for s in range(16)}


def test_worker_drains_the_queue_and_deletes_messages() -> None:
    store = MemoryEngineStore(tiers={"u1": "pro"})
    for n in range(20):
        store.add_item(EngineItem(f"item-{n}", "u1", URL, AlertRule(Decimal("1"), "EUR"),
                                  AlertState()))
    queue = MemoryChecksQueue()
    Scheduler(store, queue).tick()
    queue.send(["not json", json.dumps({"itemId": "gone", "userId": "u1"})])
    fetcher = ScriptedFetcher([ok(page("50"))] * 20)
    service = CheckService(store, fetcher, RecordingNotifier(), None, CheckPolicy(), owner="w")
    worker = Worker(queue, service, concurrency=4, blocking_queue=False)
    asyncio.run(worker.run(asyncio.Event(), idle_exit=True))
    assert worker.outcomes == {"ok": 20, "malformed": 1, "skipped": 1}
    assert queue.deleted == 22 and len(queue) == 0


def test_worker_stops_gracefully_and_finishes_checks_in_flight() -> None:
    store = MemoryEngineStore()
    store.add_item(EngineItem("i1", "u1", URL, AlertRule(Decimal("1"), "EUR"), AlertState()))
    queue = MemoryChecksQueue()
    queue.send([json.dumps({"itemId": "i1", "userId": "u1"})])

    class Slow:
        async def fetch(self, url: str) -> FetchResult:
            stop.set()  # SIGTERM arrives while the check is running
            await asyncio.sleep(0.05)
            return ok(page("10"))

    stop = asyncio.Event()
    service = CheckService(store, Slow(), RecordingNotifier(), None, CheckPolicy(), owner="w")
    worker = Worker(queue, service, concurrency=2, blocking_queue=False)

    async def run() -> None:
        await worker.run(stop)

    asyncio.run(run())
    assert worker.outcomes == {"ok": 1} and queue.deleted == 1


def test_paused_item_is_not_fetched_and_looked_at_again_at_the_tier_cadence() -> None:
    service, store, notifier, clock = setup([ok(page("10"))], tier="pro")
    store.items[("i1", "u1")] = replace(store.items[("i1", "u1")], status="paused",
                                        next_check_at=NOW)
    assert asyncio.run(service.check("i1", "u1")) == "skipped"
    assert service.fetcher.calls == 0
    assert store.get_item("i1", "u1").next_check_at == NOW + 3600
    assert notifier.sent == [] and store.history == {}
