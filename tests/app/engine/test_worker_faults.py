"""The price worker while DynamoDB, SQS or a shop misbehaves (issue 17), on the local cloud.

DynamoDB/SQS faults come from a proxy in front of the local cloud (tests/app/support/
drills.py FaultProxy: HTTP 500, throttling); the worker's clients have the bounds of
``autobuy.dependencies.aws_config``. What must hold: the worker backs off instead of
spinning or crashing, no message is lost (it comes back, or goes to the dead-letter queue
after the configured receives), and a failed check never becomes a price.
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import yaml

from autobuy.config import SharedSettings
from autobuy.contract import CheckMessage
from autobuy.contract import due_shard as shard_of
from autobuy.dependencies import aws_config
from autobuy.engine.checks import CheckPolicy, CheckService
from autobuy.engine.consumer import Backoff, Worker
from autobuy.engine.dynamo_store import DynamoEngineStore
from autobuy.engine.fetch import FetchResult
from autobuy.engine.queue import SqsChecksQueue
from autobuy.schema import create_table_params, load_tables
from tests.app.support.doubles import RecordingNotifier
from tests.app.support.drills import FaultProxy

pytestmark = pytest.mark.slow

# The stack's redrive policy: a message received this many times without being deleted goes
# to the dead-letter queue. The tests shorten the visibility timeout (1 s, not 120 s), so a
# few seconds of failing checks are several receives: with fewer allowed than the stack's,
# the DynamoDB test's messages could reach the DLQ before DynamoDB came back.
STACK_VARS = Path(__file__).parents[3] / "inventories/aws/group_vars/all/stack.yml"
MAX_RECEIVES = int(yaml.safe_load(STACK_VARS.read_text())["autobuy_checks_max_receive_count"])

PAGE = (b'<html><head><script type="application/ld+json">{"@context": "https://schema.org", '
        b'"@type": "Product", "offers": {"@type": "Offer", "price": "50.00", '
        b'"priceCurrency": "EUR", "availability": "https://schema.org/InStock"}}</script>'
        b"</head><body>" + b"<p>Text</p>" * 100 + b"</body></html>")


class Fetcher:
    """The shop: a good page, except for URLs in ``failing`` (an HTTP 503) or ``crashing``."""

    def __init__(self) -> None:
        self.failing: set[str] = set()
        self.crashing: set[str] = set()
        self.calls: dict[str, int] = {}

    async def fetch(self, url: str) -> FetchResult:
        self.calls[url] = self.calls.get(url, 0) + 1
        if url in self.crashing:
            raise RuntimeError("parser bug")
        if url in self.failing:
            return FetchResult(url, "failed", 503, reason="HTTP 503")
        return FetchResult(url, "ok", 200, PAGE)


@dataclass
class Cloud:
    ddb: object
    sqs: object
    prefix: str
    queue_url: str
    dlq_url: str
    proxy: FaultProxy

    def client(self, service: str, *, proxied: bool):
        settings = SharedSettings(_env_file=None)  # the default bounds: 1 s, 2 attempts
        kwargs = {"config": aws_config(settings)}
        if proxied:
            kwargs["endpoint_url"] = self.proxy.url
        return boto3.client(service, **kwargs)

    def add_items(self, n: int) -> list[str]:
        now = int(time.time())
        ids = [f"item-{uuid.uuid4().hex[:8]}" for _ in range(n)]
        for item_id in ids:
            self.ddb.put_item(TableName=self.prefix + "autobuy_items", Item={
                "itemId": {"S": item_id}, "userId": {"S": "u1"},
                "url": {"S": f"https://shop.test/{item_id}"}, "targetPrice": {"N": "10"},
                "currency": {"S": "EUR"}, "autoBuy": {"BOOL": False}, "status": {"S": "active"},
                "createdAt": {"N": str(now)}, "updatedAt": {"N": str(now)},
                "nextCheckAt": {"N": str(now)}, "dueShard": {"S": shard_of(item_id)}})
        SqsChecksQueue(self.sqs, self.queue_url).send(
            [CheckMessage(i, "u1", "manual").encode() for i in ids])
        return ids

    def history(self, item_id: str) -> list[dict]:
        return self.ddb.query(TableName=self.prefix + "autobuy_price_history",
                              KeyConditionExpression="itemId = :i",
                              ExpressionAttributeValues={":i": {"S": item_id}})["Items"]

    def waiting(self, url: str) -> int:
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return (int(attrs["ApproximateNumberOfMessages"])
                + int(attrs["ApproximateNumberOfMessagesNotVisible"]))


@pytest.fixture
def cloud(localcloud: str) -> Iterator[Cloud]:
    prefix = f"wf{uuid.uuid4().hex[:6]}_"
    ddb = boto3.client("dynamodb")
    sqs = boto3.client("sqs")
    for table in load_tables():
        ddb.create_table(**create_table_params(table, prefix))
    ddb.put_item(TableName=prefix + "autobuy_users",
                 Item={"userId": {"S": "u1"}, "subscriptionTier": {"S": "pro"}})
    dlq = sqs.create_queue(QueueName=f"{prefix}checks-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName=f"{prefix}checks", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn,
                                     "maxReceiveCount": str(MAX_RECEIVES)})})["QueueUrl"]
    proxy = FaultProxy(localcloud)
    try:
        yield Cloud(ddb, sqs, prefix, queue, dlq, proxy)
    finally:
        proxy.close()


def _run(worker: Worker, *, seconds: float, until=None) -> None:
    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until and until()):
            await asyncio.sleep(0.05)
        stop.set()
        await task
    asyncio.run(go())


def _worker(cloud: Cloud, fetcher: Fetcher, *, dynamo_proxied: bool, sqs_proxied: bool,
            backoff: Backoff | None = None) -> Worker:
    store = DynamoEngineStore(cloud.client("dynamodb", proxied=dynamo_proxied), cloud.prefix)
    queue = SqsChecksQueue(cloud.client("sqs", proxied=sqs_proxied), cloud.queue_url,
                           wait_seconds=0, visibility_seconds=1)
    service = CheckService(store, fetcher, RecordingNotifier(), None, CheckPolicy(), owner="wf")
    return Worker(queue, service, concurrency=4, backoff=backoff or Backoff(0.2, 2.0))


def test_dynamodb_failing_backs_off_keeps_the_messages_and_records_no_price(cloud: Cloud):
    ids = cloud.add_items(3)
    fetcher = Fetcher()
    worker = _worker(cloud, fetcher, dynamo_proxied=True, sqs_proxied=False)
    cloud.proxy.set("error")
    _run(worker, seconds=3)
    assert worker.outcomes.get("error", 0) >= 1 and "ok" not in worker.outcomes, worker.outcomes
    assert worker.backoff.streak >= 2
    # Backing off: a few attempts, not a spin (3 messages visible again every 1 s); fewer
    # receives of each message than the redrive policy allows, so none is dead-lettered.
    assert worker.outcomes["error"] <= 3 * (MAX_RECEIVES - 1), worker.outcomes
    assert all(cloud.history(i) == [] for i in ids)
    assert cloud.waiting(cloud.queue_url) == 3  # nothing lost, nothing deleted
    cloud.proxy.set("pass")
    _run(worker, seconds=20, until=lambda: worker.outcomes.get("ok", 0) == 3)
    assert worker.outcomes.get("ok") == 3, worker.outcomes
    assert [len(cloud.history(i)) for i in ids] == [1, 1, 1]
    assert cloud.waiting(cloud.queue_url) == 0 and cloud.waiting(cloud.dlq_url) == 0
    assert worker.backoff.streak == 0


@pytest.mark.parametrize("mode", ["error", "throttle"])
def test_sqs_failing_backs_off_without_crashing_then_drains(cloud: Cloud, mode: str):
    ids = cloud.add_items(2)
    worker = _worker(cloud, Fetcher(), dynamo_proxied=False, sqs_proxied=True)
    cloud.proxy.set(mode)
    _run(worker, seconds=2.5)
    assert worker.outcomes.get("receive_failed", 0) >= 1 and "ok" not in worker.outcomes
    assert worker.outcomes["receive_failed"] <= 10, worker.outcomes  # backing off
    cloud.proxy.set("pass")
    _run(worker, seconds=20, until=lambda: worker.outcomes.get("ok", 0) == 2)
    assert worker.outcomes.get("ok") == 2 and all(len(cloud.history(i)) == 1 for i in ids)
    assert cloud.waiting(cloud.queue_url) == 0


def test_a_check_that_keeps_failing_lands_in_the_dead_letter_queue(cloud: Cloud):
    bad, good = cloud.add_items(2)
    fetcher = Fetcher()
    fetcher.crashing.add(f"https://shop.test/{bad}")
    worker = _worker(cloud, fetcher, dynamo_proxied=False, sqs_proxied=False,
                     backoff=Backoff(0.05, 0.2))
    _run(worker, seconds=25, until=lambda: cloud.waiting(cloud.dlq_url) == 1
         and cloud.waiting(cloud.queue_url) == 0)
    # Each redelivery really ran the check (the failed check gave its lease back).
    assert fetcher.calls[f"https://shop.test/{bad}"] == MAX_RECEIVES
    assert worker.outcomes.get("ok") == 1 and worker.outcomes.get("error") == MAX_RECEIVES
    dead = cloud.sqs.receive_message(QueueUrl=cloud.dlq_url)["Messages"]
    assert [json.loads(m["Body"])["itemId"] for m in dead] == [bad]
    assert cloud.history(bad) == [] and len(cloud.history(good)) == 1


def test_a_failing_shop_is_never_recorded_as_a_price_and_is_checked_later(cloud: Cloud):
    (item_id,) = cloud.add_items(1)
    fetcher = Fetcher()
    fetcher.failing.add(f"https://shop.test/{item_id}")
    worker = _worker(cloud, fetcher, dynamo_proxied=False, sqs_proxied=False)
    before = int(time.time())
    _run(worker, seconds=10, until=lambda: worker.outcomes.get("failed") == 1)
    assert worker.outcomes == {"failed": 1}
    assert cloud.history(item_id) == []
    item = DynamoEngineStore(cloud.ddb, cloud.prefix).get_item(item_id, "u1")
    assert item.current_price is None and item.fail_streak == 1
    assert item.next_check_at >= before + CheckPolicy().failure_retry_seconds
    assert cloud.waiting(cloud.queue_url) == 0  # a failed check is a finished check
