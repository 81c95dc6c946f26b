"""The web app end to end in headless Chromium (Debian's, driven by Playwright): the built
app (web/dist) and the API on one origin, on real stores (MariaDB, DynamoDB/SQS on the
local cloud), the worker process checking the demo shop, Stripe the local cloud's stand-in.
The steps are tests/app/support/web_flow.py's, which the twin's e2e runs as well.

A person signs in (development sign-in), previews a demo-shop product, tracks it, sees the
worker's price in the list and on the chart, gets the alert when the shop lowers the price
(and the e-mail SES sent), upgrades through Stripe Checkout (pro, then ultra), turns
auto-buy on, confirms the order the next crossing creates, stops tracking and signs out.
Screenshots (phone 375 px and desktop) go to AUTOBUY_SCREENSHOTS_DIR when it is set
(docs/screenshots holds the committed ones), else to the test's temporary directory.
"""
from __future__ import annotations

import json
import mimetypes
import os
import secrets
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import boto3
import pytest
from pydantic import SecretStr

from autobuy.app import create_app, real_stores
from autobuy.dev.api import stripe_webhook_secret
from autobuy.dev.tables import ensure_tables
from autobuy.engine.dynamo_store import DynamoEngineStore
from autobuy.engine.queue import SqsChecksQueue
from autobuy.engine.scheduler import Scheduler
from tests.app.engine.conftest import demo_shop  # noqa: F401 - the fixture
from tests.app.engine.test_mail import verified_ses_domain
from tests.app.support import web_flow
from tests.app.support.web_flow import CHROMIUM_ARGS, Site, stripe_delivered, until
from tests.conftest import ROOT

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.mysql, pytest.mark.chromium]

CHROMIUM = os.environ.get("AUTOBUY_CHROMIUM", "/usr/bin/chromium")
DIST = ROOT / "web" / "dist"
EMAIL = "ana.web@example.com"
SENDER = "alerts@e2e-mail.autobuyguard.store"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def one_origin(api, dist: Path):  # noqa: ANN001, ANN201 - WSGI callables
    """What CloudFront does for the site: /v1/* and /health to the API, files from the
    build, every other path the app's index.html (SPA routing)."""
    def app(environ, start_response):  # noqa: ANN001, ANN202
        path = environ.get("PATH_INFO", "/")
        if path.startswith("/v1/") or path in ("/health", "/openapi.json"):
            return api(environ, start_response)
        file = (dist / path.lstrip("/")).resolve()
        if path == "/" or not file.is_file() or dist.resolve() not in file.parents:
            file = dist / "index.html"
        body = file.read_bytes()
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]
    return app


@pytest.fixture(scope="module")
def built_app() -> Path:
    """web/dist as `make web` builds it (npm ci from the lockfile, vite build)."""
    subprocess.run(["make", "-s", "web"], cwd=ROOT, check=True, capture_output=True, timeout=600)
    assert (DIST / "index.html").is_file()
    return DIST


@pytest.fixture
def site(built_app, mysql_engine, mysql_settings, localcloud, demo_shop):  # noqa: F811
    # the tables on the session's local cloud only (one browser run is enough)
    prefix = "w" + secrets.token_hex(3) + "_"
    ensure_tables(boto3.client("dynamodb"), prefix)
    queue_url = boto3.client("sqs").create_queue(QueueName=f"{prefix}autobuy-checks")["QueueUrl"]
    server = make_server("127.0.0.1", 0, lambda e, s: handler(e, s), server_class=_Server,
                         handler_class=_Quiet)
    # localhost: a secure context for Chromium, so the API's Secure refresh cookie is kept
    url = f"http://localhost:{server.server_port}"
    secret = stripe_webhook_secret(localcloud + "/stripe", url + "/v1/billing/webhook", "sk_test_e2e")
    settings = mysql_settings.model_copy(update={
        "aws_endpoint_url": localcloud, "table_prefix": prefix, "checks_queue_url": queue_url,
        "url_allow_hosts": frozenset({demo_shop.removeprefix("http://")}),
        "stripe_api_url": localcloud + "/stripe", "stripe_secret_key": SecretStr("sk_test_e2e"),
        "stripe_webhook_secret": SecretStr(secret), "checkout_success_url": url + "/account?checkout=success",
        "checkout_cancel_url": url + "/account?checkout=cancelled"})
    handler = one_origin(create_app(settings, stores=real_stores(settings)), built_app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield url, settings
    finally:
        server.shutdown()


@pytest.fixture
def worker(site, localcloud) -> Iterator[callable]:
    """The worker process (SES e-mail on); calling the fixture's value runs one scheduler
    tick and waits until the worker has checked what it sent."""
    _, settings = site
    verified_ses_domain("e2e-mail.autobuyguard.store")
    env = {**os.environ, "AUTOBUY_ENV": "development", "AUTOBUY_AWS_ENDPOINT_URL": localcloud,
           "AUTOBUY_TABLE_PREFIX": settings.table_prefix, "AUTOBUY_CHECKS_QUEUE_URL": settings.checks_queue_url,
           "AUTOBUY_URL_ALLOW_HOSTS": json.dumps(sorted(settings.url_allow_hosts)),
           "AUTOBUY_ENGINE_POLITENESS_SECONDS": "0", "AUTOBUY_ENGINE_SCHEDULER": "false",
           "AUTOBUY_SES_FROM": SENDER}
    proc = subprocess.Popen([sys.executable, "-m", "autobuy.engine.worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sqs = boto3.client("sqs")
    store = DynamoEngineStore(boto3.client("dynamodb"), settings.table_prefix)

    def check_due() -> None:
        sent = Scheduler(store, SqsChecksQueue(sqs, settings.checks_queue_url)).tick()
        assert sent >= 1
        until("the worker to take the checks", lambda: set(sqs.get_queue_attributes(
            QueueUrl=settings.checks_queue_url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
            ["Attributes"].values()) == {"0"})
    try:
        yield check_due
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)


def make_due(settings, item_id: str, user_id: str) -> None:  # noqa: ANN001
    """Make the item due now (the schedule would in minutes): what the API's check-now does."""
    boto3.client("dynamodb").update_item(
        TableName=settings.table_prefix + "autobuy_items",
        Key={"itemId": {"S": item_id}, "userId": {"S": user_id}},
        UpdateExpression="SET nextCheckAt = :now", ExpressionAttributeValues={":now": {"N": "0"}})


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("AUTOBUY_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_person_tracks_a_product_gets_the_alert_upgrades_and_signs_out(
        site, worker, demo_shop, localcloud, shots):  # noqa: F811
    url, settings = site

    def check(item_id: str, user_id: str) -> None:
        make_due(settings, item_id, user_id)
        worker()

    def set_price(price: str) -> None:
        urllib.request.urlopen(urllib.request.Request(
            f"{demo_shop}/admin/p/3", data=json.dumps({"price": price}).encode(), method="POST",
            headers={"Content-Type": "application/json"}), timeout=5).close()

    def mails() -> list[dict]:
        with urllib.request.urlopen(localcloud + "/localcloud/ses/messages", timeout=5) as resp:
            return json.load(resp)["messages"]

    def user_id() -> str:
        return boto3.client("dynamodb").scan(
            TableName=settings.table_prefix + "autobuy_items")["Items"][0]["userId"]["S"]

    flow = Site(url=url, email=EMAIL, sender=SENDER, product_url=f"{demo_shop}/p/3", check=check,
                set_price=set_price, mails=mails, user_id=user_id,
                stripe_delivered=stripe_delivered(localcloud + "/stripe/v1/events", "sk_test_e2e"))
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        desktop = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        web_flow.run(desktop.new_page(), playwright_sync.expect, flow, shots)
        browser.close()
