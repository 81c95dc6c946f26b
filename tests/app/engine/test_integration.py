"""End to end on the local cloud: scheduler -> SQS -> worker -> demo shop on loopback ->
DynamoDB history/alerts/orders and SNS, while the shop's prices change."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any

import boto3
import pytest

from autobuy.contract import due_shard as shard_of
from autobuy.engine.checks import CheckPolicy, CheckService
from autobuy.engine.consumer import Worker
from autobuy.engine.dynamo_store import DynamoEngineStore
from autobuy.engine.fetch import Fetcher, FetchSettings
from autobuy.engine.notify import MultiNotifier, SnsNotifier, WebhookNotifier
from autobuy.engine.orders import OrderPolicy, OrderService
from autobuy.engine.queue import SqsChecksQueue
from autobuy.engine.scheduler import Scheduler
from autobuy.schema import create_table_params, load_tables

from tests.app.support.doubles import Clock, Purchaser
from tests.app.support.local import serve_http

pytestmark = pytest.mark.slow


class HookReceiver(BaseHTTPRequestHandler):
    bodies: list[dict] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("X-AutoBuy-Signature", "").startswith("t="):
            HookReceiver.bodies.append(json.loads(body))
        self.send_response(204)
        self.end_headers()


@pytest.fixture(scope="module")
def hook_receiver() -> Iterator[str]:
    with serve_http(HookReceiver) as host:
        yield host


def set_product(base: str, n: int, **change: Any) -> None:
    request = urllib.request.Request(f"{base}/admin/p/{n}", data=json.dumps(change).encode(),
                                     method="POST")
    urllib.request.urlopen(request, timeout=5).close()


def test_worker_checks_items_through_the_queue_and_alerts_once_per_crossing(
        localcloud: str, demo_shop: str, hook_receiver: str) -> None:
    prefix = f"eng{uuid.uuid4().hex[:8]}_"
    ddb = boto3.client("dynamodb")
    sqs = boto3.client("sqs")
    sns = boto3.client("sns")
    for table in load_tables():
        ddb.create_table(**create_table_params(table, prefix))
    dlq = sqs.create_queue(QueueName=f"{prefix}autobuy-checks-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(QueueName=f"{prefix}autobuy-checks", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})})[
        "QueueUrl"]
    topic = sns.create_topic(Name="taskapp-alerts")["TopicArn"]
    # a queue subscribed to the topic sees what SNS really delivered (not the app's record)
    tap = sqs.create_queue(QueueName=f"{prefix}alerts-tap")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=tap_arn)

    clock = Clock(int(time.time()))
    start = int(clock.now)
    users = {"u-ultra": "ultra", "u-pro": "pro"}
    for user, tier in users.items():
        ddb.put_item(TableName=prefix + "autobuy_users",
                     Item={"userId": {"S": user}, "subscriptionTier": {"S": tier}})
    ddb.update_item(TableName=prefix + "autobuy_users", Key={"userId": {"S": "u-pro"}},
                    UpdateExpression="SET alertWebhookUrl = :u, alertWebhookSecret = :s",
                    ExpressionAttributeValues={":u": {"S": f"http://{hook_receiver}/alerts"},
                                               ":s": {"S": "pro-user-webhook-secret"}})
    items = {  # itemId: (user, product, target, autoBuy) — as the API writes them
        "item-a": ("u-ultra", 1, "95", True),
        "item-b": ("u-pro", 2, "100", False),
        "item-c": ("u-ultra", 3, "1000", True),
    }
    for item_id, (user, product, target, auto_buy) in items.items():
        ddb.put_item(TableName=prefix + "autobuy_items", Item={
            "itemId": {"S": item_id}, "userId": {"S": user},
            "url": {"S": f"{demo_shop}/p/{product}"}, "targetPrice": {"N": target},
            "currency": {"S": "EUR"}, "autoBuy": {"BOOL": auto_buy}, "status": {"S": "active"},
            "createdAt": {"N": str(start)}, "updatedAt": {"N": str(start)},
            "nextCheckAt": {"N": str(start)}, "dueShard": {"S": shard_of(item_id)}})
    set_product(demo_shop, 3, mode="captcha")

    store = DynamoEngineStore(ddb, prefix)
    queue = SqsChecksQueue(sqs, queue_url, wait_seconds=0)
    purchaser = Purchaser()
    orders = OrderService(store, purchaser, OrderPolicy(monthly_cap=Decimal("1000")), clock)
    host = demo_shop.removeprefix("http://")
    scheduler = Scheduler(store, queue, clock=clock)

    def round_of_checks(advance: int) -> dict[str, int]:
        clock.now += advance
        scheduler.tick()

        async def work() -> dict[str, int]:
            settings = FetchSettings(allow_hosts=frozenset({host, hook_receiver}),
                                     politeness_delay=0.0)
            hooks = WebhookNotifier(store.webhook_for, settings)
            async with Fetcher(settings) as fetcher:
                notifier = MultiNotifier([SnsNotifier(sns, topic), hooks])
                service = CheckService(store, fetcher, notifier, orders, CheckPolicy(),
                                       owner="it-worker", clock=clock)
                worker = Worker(queue, service, concurrency=8)
                await worker.run(asyncio.Event(), idle_exit=True)
            await hooks.aclose()
            return worker.outcomes
        return asyncio.run(work())

    def alerts(user: str) -> list[tuple[str, str, int | None]]:
        return sorted((a.item_id, str(a.event.price), a.event.crossing)
                      for a in store.alerts_for_user(user))

    # 1. prices above target: history, no alerts; the captcha product is blocked
    assert round_of_checks(0) == {"ok": 2, "blocked": 1}
    a = store.get_item("item-a", "u-ultra")
    assert a.current_price == Decimal("101") and a.last_checked == start
    history = ddb.query(TableName=prefix + "autobuy_price_history",
                        KeyConditionExpression="itemId = :i",
                        ExpressionAttributeValues={":i": {"S": "item-a"}})["Items"]
    assert [h["price"]["N"] for h in history] == ["101"]
    c = store.get_item("item-c", "u-ultra")
    assert c.current_price is None and c.fail_streak == 1
    assert alerts("u-ultra") == [] and alerts("u-pro") == []

    # 2. nothing is due yet: no checks
    assert round_of_checks(60) == {}

    # 3. prices drop below target: one alert each, one order for the ultra auto-buy item
    set_product(demo_shop, 1, price="90.00")
    set_product(demo_shop, 2, price="99.50")
    assert round_of_checks(2 * 3600) == {"ok": 2, "blocked": 1}
    assert alerts("u-ultra") == [("item-a", "90.00", 1)]
    assert alerts("u-pro") == [("item-b", "99.50", 1)]
    placed = store.list_for_user("u-ultra")
    assert [(o.idempotency_key, o.state) for o in placed] == [("item-a:1", "pending")]
    assert store.list_for_user("u-pro") == []

    # 4. still low: no second alert, no second order (once per crossing)
    assert round_of_checks(2 * 3600) == {"ok": 2, "blocked": 1}
    assert len(alerts("u-ultra")) == 1 and len(store.list_for_user("u-ultra")) == 1

    # 5. back above target (re-arm), then below again: a second crossing
    set_product(demo_shop, 1, price="120.00")
    round_of_checks(2 * 3600)
    set_product(demo_shop, 1, price="80.00")
    round_of_checks(2 * 3600)
    assert alerts("u-ultra") == [("item-a", "80.00", 2), ("item-a", "90.00", 1)]
    keys = sorted(o.idempotency_key for o in store.list_for_user("u-ultra"))
    assert keys == ["item-a:1", "item-a:2"]

    # 6. a manual check request in the API's message shape is honoured
    queue.send([json.dumps({"itemId": "item-b", "userId": "u-pro", "reason": "manual"})])
    assert round_of_checks(1) == {"ok": 1}

    # 7. the first order's confirmation window (15 min) ended hours ago: it expires; the
    #    user confirms the second; it is placed and every state change is recorded
    first, second = sorted(store.list_for_user("u-ultra"), key=lambda o: o.crossing)
    assert [o.order_id for o in orders.expire_due()] == [first.order_id]
    assert store.get("u-ultra", first.order_id).state == "expired"
    done = orders.confirm("u-ultra", second.order_id)
    assert done.state == "placed" and purchaser.placed == ["item-a:2"]
    assert [h[1] for h in store.get("u-ultra", second.order_id).history] == [
        "pending", "confirmed", "placed"]

    # alerts were delivered through SNS: the subscribed queue got each one, once, with
    # the user and kind as message attributes
    delivered = []
    while batch := sqs.receive_message(QueueUrl=tap, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=0).get("Messages", []):
        for message in batch:
            envelope = json.loads(message["Body"])
            body = json.loads(envelope["Message"])
            assert envelope["TopicArn"] == topic
            assert envelope["MessageAttributes"]["userId"]["Value"] == body["userId"]
            delivered.append((body["userId"], body["itemId"], body["kind"], body["price"],
                              body["crossing"]))
            sqs.delete_message(QueueUrl=tap, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(delivered) == [
        ("u-pro", "item-b", "price", "99.50", 1),
        ("u-ultra", "item-a", "price", "80.00", 2),
        ("u-ultra", "item-a", "price", "90.00", 1)]
    # ... (and the pro user's signed webhook) and recorded as such; the captcha item never
    # alerted
    assert all(a.deliveries == {"sns": "sent"} for a in store.alerts_for_user("u-ultra"))
    assert all(a.deliveries == {"sns": "sent", "webhook": "sent"}
               for a in store.alerts_for_user("u-pro"))
    assert [(b["itemId"], b["price"]) for b in HookReceiver.bodies] == [("item-b", "99.50")]
    assert not [a for a in store.alerts_for_user("u-ultra") if a.item_id == "item-c"]
    assert int(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
        "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"]) == 0
