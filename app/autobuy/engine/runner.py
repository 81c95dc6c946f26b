"""Composition root of the worker process: ``python -m autobuy.engine`` (also the
``autobuy-worker`` script and ``python -m autobuy.engine.worker``).

Builds the settings once, the boto3 clients, the DynamoDB store, the SQS queue, the
fetcher, notifier and order service, then runs three loops until SIGTERM/SIGINT:
the worker (checks from the queue), the scheduler tick (due items -> queue; safe on
every instance, see ``scheduler``) and the order-expiry sweep.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from typing import Any

import boto3
from pydantic import ValidationError

from autobuy.dependencies import aws_config
from autobuy.engine.browser import BrowserFetcher, RoutingFetcher
from autobuy.engine.checks import CheckPolicy, CheckService
from autobuy.engine.config import EngineSettings
from autobuy.engine.consumer import Backoff, Worker
from autobuy.engine.dynamo_store import DynamoEngineStore
from autobuy.engine.fetch import Fetcher, FetchSettings
from autobuy.engine.mail import SesNotifier, SmtpNotifier, SmtpSettings
from autobuy.engine.notify import MultiNotifier, WebhookNotifier
from autobuy.engine.orders import NoPurchaser, OrderPolicy, OrderService, PurchaseWebhook
from autobuy.engine.queue import SqsChecksQueue
from autobuy.engine.scheduler import Scheduler

__all__ = ["check_policy", "main", "run"]

log = logging.getLogger("autobuy.engine")


def _client(settings: EngineSettings, service: str, *, long_poll_seconds: float = 0) -> Any:
    """A client bounded by the settings' AWS timeouts and retry budget (not botocore's 60 s)."""
    return boto3.client(service, region_name=settings.aws_region,
                        endpoint_url=settings.aws_endpoint_url or None,
                        config=aws_config(settings, long_poll_seconds=long_poll_seconds))


async def _every(seconds: float, stop: asyncio.Event, action: Any) -> None:
    while not stop.is_set():
        try:
            await asyncio.to_thread(action)
        except Exception:  # noqa: BLE001 - a failed tick is logged and retried next time
            log.exception("periodic task failed")
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except asyncio.TimeoutError:
            pass


def _smtp_settings(settings: EngineSettings) -> SmtpSettings:
    return SmtpSettings(host=settings.smtp_host, sender=settings.smtp_from,
                        port=settings.smtp_port, username=settings.smtp_username,
                        password=settings.smtp_password.get_secret_value(),
                        starttls=settings.smtp_starttls, timeout=settings.smtp_timeout_seconds)


def check_policy(settings: EngineSettings) -> CheckPolicy:
    """The schedule of the settings' tiers (``AUTOBUY_TIERS``, the API's too)."""
    return CheckPolicy.from_tiers(settings.tiers, auto_confirm=settings.autobuy_auto_confirm)


async def run(settings: EngineSettings, stop: asyncio.Event) -> dict[str, int]:
    """Run the worker (and scheduler and expiry sweep) until ``stop`` is set."""
    store = DynamoEngineStore(_client(settings, "dynamodb"), settings.table_prefix,
                              settings.table_names)
    queue = SqsChecksQueue(_client(settings, "sqs", long_poll_seconds=SqsChecksQueue.WAIT_SECONDS),
                           settings.checks_queue_url)
    secret = settings.purchase_webhook_secret.get_secret_value().encode()
    purchaser = (PurchaseWebhook(settings.purchase_webhook_url, secret)
                 if settings.purchase_webhook_url else NoPurchaser())
    orders = OrderService(store, purchaser, OrderPolicy(
        monthly_cap=settings.autobuy_monthly_cap,
        confirmation_seconds=settings.autobuy_confirm_seconds))
    fetch_settings = FetchSettings(allow_hosts=settings.url_allow_hosts,
                                   per_domain_concurrency=settings.engine_per_host,
                                   politeness_delay=settings.engine_politeness_seconds)
    webhooks = WebhookNotifier(store.webhook_for, fetch_settings)
    channels: list[Any] = [webhooks]
    # Alerts go to the user (e-mail, webhook); the SNS topic is the operators' (alarms only).
    if settings.ses_from:
        channels.append(SesNotifier(store.email_for, _client(settings, "ses"), settings.ses_from,
                                    configuration_set=settings.ses_configuration_set))
    if settings.smtp_host:
        channels.append(SmtpNotifier(store.email_for, _smtp_settings(settings)))
    owner = settings.engine_owner or f"{socket.gethostname()}:{os.getpid()}"
    async with Fetcher(fetch_settings) as fetcher:
        browser = (BrowserFetcher(fetcher, executable=settings.engine_browser)
                   if settings.engine_script_rendered_hosts else None)
        pages = (RoutingFetcher(fetcher, browser, settings.engine_script_rendered_hosts)
                 if browser is not None else fetcher)
        policy = check_policy(settings)
        service = CheckService(store, pages, MultiNotifier(channels), orders, policy, owner)
        worker = Worker(queue, service, concurrency=settings.engine_concurrency,
                        backoff=Backoff(settings.engine_backoff_seconds,
                                        settings.engine_backoff_max_seconds))
        loops = [asyncio.create_task(_every(60, stop, orders.expire_due))]
        if settings.engine_scheduler:
            scheduler = Scheduler(store, queue, lease_seconds=policy.lease_seconds)
            loops.append(asyncio.create_task(_every(settings.engine_tick_seconds, stop,
                                                    scheduler.tick)))
        try:
            await worker.run(stop)
            await asyncio.gather(*loops)
        finally:
            await webhooks.aclose()
            if browser is not None:
                await browser.aclose()
    return worker.outcomes


def main() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format='{"level":"%(levelname)s","logger":"%(name)s","msg":"%(message)s"}')
    try:
        settings = EngineSettings()
    except ValidationError as exc:
        names = ", ".join("AUTOBUY_" + "_".join(map(str, e["loc"])).upper() if e["loc"]
                          else e["msg"] for e in exc.errors(include_input=False))
        print(f"autobuy-worker: invalid settings: {names}", file=sys.stderr)
        raise SystemExit(3) from None

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        outcomes = await run(settings, stop)
        log.info("worker stopped after %s", outcomes)

    asyncio.run(_main())
