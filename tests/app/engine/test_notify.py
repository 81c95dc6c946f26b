"""Alert channels: SNS publish, signed user webhooks behind the SSRF guard."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler

import pytest

from autobuy.engine.alerts import AlertEvent, AlertRule, AlertState
from autobuy.engine.fetch import FetchSettings
from autobuy.engine.notify import MultiNotifier, SnsNotifier, WebhookNotifier
from autobuy.engine.store import EngineItem, StoredAlert

from tests.app.support.local import serve_http

ITEM = EngineItem("i1", "u1", "https://www.shop.de/p/1", AlertRule(Decimal("100"), "EUR"),
                  AlertState())
ALERT = StoredAlert("u1", "a1", "i1", 1_764_000_000, AlertEvent("price", Decimal("99.50"), "EUR", 1))


class FakeSns:
    def __init__(self, fail: bool = False) -> None:
        self.published: list[dict] = []
        self.fail = fail

    def publish(self, **kwargs: object) -> dict:
        if self.fail:
            raise ConnectionError("sns down")
        self.published.append(kwargs)
        return {"MessageId": "m1"}


def test_sns_publish_carries_the_alert() -> None:
    sns = FakeSns()
    assert asyncio.run(SnsNotifier(sns, "arn:aws:sns:eu-central-1:1:taskapp-alerts")
                       .deliver(ALERT, ITEM)) == {"sns": "sent"}
    message = json.loads(sns.published[0]["Message"])
    assert message["price"] == "99.50" and message["targetPrice"] == "100"
    assert sns.published[0]["MessageAttributes"]["userId"]["StringValue"] == "u1"


def test_one_failing_channel_does_not_stop_the_others() -> None:
    good, bad = FakeSns(), FakeSns(fail=True)
    both = MultiNotifier([SnsNotifier(bad, "arn:bad"), _Named(SnsNotifier(good, "arn:good"))])
    assert asyncio.run(both.deliver(ALERT, ITEM)) == {"sns": "failed: ConnectionError",
                                                      "sns2": "sent"}


class _Named:
    def __init__(self, inner: SnsNotifier) -> None:
        self.inner = inner

    async def deliver(self, alert: StoredAlert, item: EngineItem) -> dict[str, str]:
        return {f"{k}2": v for k, v in (await self.inner.deliver(alert, item)).items()}


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict, bytes]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()


@pytest.fixture
def receiver() -> Iterator[str]:
    with serve_http(Receiver) as host:
        yield host


def test_user_webhook_is_signed(receiver: str) -> None:
    secret = b"user-webhook-secret"
    notifier = WebhookNotifier(lambda user: (f"http://{receiver}/hook", secret),
                               FetchSettings(allow_hosts=frozenset({receiver})))
    assert asyncio.run(notifier.deliver(ALERT, ITEM)) == {"webhook": "sent"}
    headers, body = Receiver.received[-1]
    ts, v1 = (p.split("=", 1)[1] for p in headers["X-AutoBuy-Signature"].split(","))
    assert v1 == hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert json.loads(body)["alertId"] == "a1"


def test_user_webhook_to_an_internal_address_is_refused(receiver: str) -> None:
    before = len(Receiver.received)
    notifier = WebhookNotifier(lambda user: (f"http://{receiver}/hook", b"s"), FetchSettings())
    assert asyncio.run(notifier.deliver(ALERT, ITEM)) == {"webhook": "failed: UnsafeURLError"}
    assert len(Receiver.received) == before


def test_no_webhook_configured_is_no_delivery() -> None:
    assert asyncio.run(WebhookNotifier(lambda user: None).deliver(ALERT, ITEM)) == {}
