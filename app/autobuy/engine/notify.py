"""Alert delivery channels: the SNS topic (which also fans out to e-mail subscriptions)
and signed user webhooks. Pluggable: anything with ``async deliver(alert, item)``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from autobuy.engine.fetch import FetchSettings, guarded_transport
from autobuy.engine.orders import sign
from autobuy.engine.store import EngineItem, StoredAlert
from autobuy.engine.urlguard import check_url

__all__ = ["MultiNotifier", "SnsNotifier", "WebhookNotifier", "alert_payload"]


def alert_payload(alert: StoredAlert, item: EngineItem) -> dict[str, Any]:
    """The JSON every channel sends."""
    event = alert.event
    return {"alertId": alert.alert_id, "userId": alert.user_id, "itemId": alert.item_id,
            "kind": event.kind, "url": item.url,
            "price": None if event.price is None else str(event.price),
            "currency": event.currency, "targetPrice": str(item.rule.target_price)
            if item.rule.target_price is not None else None,
            "crossing": event.crossing, "createdAt": alert.created_at}


class SnsNotifier:
    """Publishes to the alerts topic (``AUTOBUY_SNS_TOPIC_ARN``); e-mail rides on it."""

    def __init__(self, client: Any, topic_arn: str) -> None:
        self._sns = client
        self._topic = topic_arn

    async def deliver(self, alert: StoredAlert, item: EngineItem) -> dict[str, str]:
        payload = alert_payload(alert, item)
        try:
            await asyncio.to_thread(
                self._sns.publish, TopicArn=self._topic, Message=json.dumps(payload),
                Subject=f"AutoBuy Guard: {alert.event.kind.replace('_', ' ')} alert",
                MessageAttributes={
                    "userId": {"DataType": "String", "StringValue": alert.user_id},
                    "kind": {"DataType": "String", "StringValue": alert.event.kind}})
        except Exception as exc:  # noqa: BLE001 - any delivery failure is recorded, not raised
            return {"sns": f"failed: {type(exc).__name__}"}
        return {"sns": "sent"}


class WebhookNotifier:
    """POSTs the alert to the user's webhook, signed like the purchase webhook.

    ``lookup(user_id)`` returns (url, secret) or None (no webhook). The user's URL goes
    through the same SSRF guard as product pages (connect-time check included).
    """

    def __init__(self, lookup: Callable[[str], tuple[str, bytes] | None],
                 settings: FetchSettings | None = None) -> None:
        settings = settings or FetchSettings()
        self._allow = settings.allow_hosts
        self._lookup = lookup
        self._client = httpx.AsyncClient(transport=guarded_transport(settings), trust_env=False,
                                         timeout=10.0, follow_redirects=False)

    async def deliver(self, alert: StoredAlert, item: EngineItem) -> dict[str, str]:
        target = self._lookup(alert.user_id)
        if target is None:
            return {}
        url, secret = target
        body = json.dumps(alert_payload(alert, item), separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json",
                   "X-AutoBuy-Signature": sign(secret, int(time.time()), body)}
        try:
            check_url(url, allow_hosts=self._allow)
            response = await self._client.post(url, content=body, headers=headers)
        except (httpx.TransportError, ValueError) as exc:
            return {"webhook": f"failed: {type(exc).__name__}"}
        return {"webhook": "sent" if response.is_success else f"failed: HTTP {response.status_code}"}

    async def aclose(self) -> None:
        await self._client.aclose()


class MultiNotifier:
    """Every channel; one failing channel does not stop the others."""

    def __init__(self, channels: Sequence[Any]) -> None:
        self._channels = list(channels)

    async def deliver(self, alert: StoredAlert, item: EngineItem) -> dict[str, str]:
        results: dict[str, str] = {}
        for outcome in await asyncio.gather(*(c.deliver(alert, item) for c in self._channels)):
            results.update(outcome)
        return results

