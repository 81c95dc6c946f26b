"""The worker process on what the API wrote: refuses bad settings, checks items created through
the API on the real stack (MariaDB, local cloud), consumes manual checks, stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import falcon.testing
import pytest

from autobuy.app import create_app, real_stores
from autobuy.engine.dynamo_store import DynamoEngineStore
from autobuy.engine.queue import SqsChecksQueue
from autobuy.engine.scheduler import Scheduler
from tests.app import helpers
from tests.app.conftest import sign_in
from tests.app.engine.test_mail import verified_ses_domain


def test_missing_queue_url_is_a_clear_error() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOBUY_")}
    proc = subprocess.run([sys.executable, "-m", "autobuy.engine.worker"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    assert "AUTOBUY_CHECKS_QUEUE_URL" in proc.stderr


@pytest.mark.parametrize("command", [["-m", "autobuy.engine"], ["-m", "autobuy.engine.worker"]])
def test_every_worker_command_line_refuses_a_missing_queue_url(command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOBUY_")}
    script = str(Path(sys.executable).with_name("autobuy-worker"))
    for argv in ([sys.executable, *command], [script]):
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 3, proc.stderr
        assert "autobuy-worker: invalid settings: AUTOBUY_CHECKS_QUEUE_URL" in proc.stderr


def test_running_the_worker_module_does_not_import_it_a_second_time() -> None:
    script = ("import runpy, sys\n"
              "sys.argv = ['worker']\n"
              "try:\n"
              "    runpy.run_module('autobuy.engine.worker', run_name='__main__', alter_sys=True)\n"
              "except SystemExit:\n"
              "    pass\n"
              "print(sorted(m for m in sys.modules if m.startswith('autobuy.engine.worker')))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOBUY_")}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=60)
    assert "AUTOBUY_CHECKS_QUEUE_URL" in proc.stderr  # it did run the worker's main
    assert proc.stdout.strip() == "[]", proc.stdout


@pytest.fixture
def api(mysql_engine, mysql_settings, dynamo_tables, dynamodb_cloud, demo_shop):
    """The API on the real stores (MariaDB, DynamoDB and SQS on the local cloud), allowed
    to track the demo shop, with its checks queue."""
    _, prefix = dynamo_tables
    queue_url = boto3.client("sqs").create_queue(QueueName=f"{prefix}autobuy-checks")["QueueUrl"]
    shop_host = demo_shop.removeprefix("http://")
    settings = mysql_settings.model_copy(update={
        "aws_endpoint_url": dynamodb_cloud, "table_prefix": prefix, "checks_queue_url": queue_url,
        "url_allow_hosts": frozenset({shop_host})})
    stores = real_stores(settings)
    stores.gateway = helpers.FakeGateway()
    return falcon.testing.TestClient(create_app(settings, stores=stores)), settings


def shop_hits(shop: str) -> int:
    with urllib.request.urlopen(shop + "/admin/hits", timeout=5) as resp:
        return json.load(resp)["hits"]


def _until(what: str, predicate, timeout: float = 30):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


@pytest.mark.slow
def test_worker_process_runs_and_stops_gracefully_on_sigterm(api, dynamodb_cloud: str,
                                                             demo_shop: str) -> None:
    """What the API writes is what the worker process works on: an item created through
    the API is scheduled and checked, a manual check request is consumed, and the API
    shows the history the engine wrote; then SIGTERM stops the worker cleanly."""
    client, settings = api
    tokens = sign_in(client, "ana.contract@example.com")
    user_id = tokens["user"]["id"]
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    created = client.simulate_post("/v1/items", headers=auth, json={
        "url": f"{demo_shop}/p/1", "target_price": "50.00", "currency": "EUR"})
    assert created.status_code == 201, created.text
    item_id = created.json["id"]
    # the engine reads the signed-in user's e-mail from the row the API wrote
    store = DynamoEngineStore(boto3.client("dynamodb"), settings.table_prefix)
    assert store.email_for(user_id) == "ana.contract@example.com"

    env = {**os.environ, "AUTOBUY_ENV": "development", "AUTOBUY_AWS_ENDPOINT_URL": dynamodb_cloud,
           "AUTOBUY_TABLE_PREFIX": settings.table_prefix,
           "AUTOBUY_CHECKS_QUEUE_URL": settings.checks_queue_url,
           "AUTOBUY_URL_ALLOW_HOSTS": json.dumps(sorted(settings.url_allow_hosts)),
           "AUTOBUY_ENGINE_POLITENESS_SECONDS": "0",
           # the test ticks the scheduler itself, so every check has one known cause
           "AUTOBUY_ENGINE_SCHEDULER": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "autobuy.engine.worker"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def history() -> list[dict]:
            result = client.simulate_get(f"/v1/items/{item_id}/history", headers=auth)
            assert result.status_code == 200, result.text
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            return result.json["items"]

        # the API made it due now: the scheduler sends it, the worker process checks it
        sqs = boto3.client("sqs")
        assert Scheduler(store, SqsChecksQueue(sqs, settings.checks_queue_url)).tick() == 1
        first = _until("the scheduled check's history", history)
        assert [p["price"] for p in first] == ["101.00"]
        shown = client.simulate_get(f"/v1/items/{item_id}", headers=auth).json
        assert shown["current_price"] == "101.00" and shown["last_checked"]

        # a manual check request, in the API's own message shape, is consumed and checked
        # (the shop sees the fetch; a second point may share the first one's second)
        hits_before = shop_hits(demo_shop)
        assert client.simulate_post(f"/v1/items/{item_id}/check", headers=auth).status_code == 202

        def consumed() -> bool:
            attributes = sqs.get_queue_attributes(
                QueueUrl=settings.checks_queue_url, AttributeNames=[
                    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
            return (shop_hits(demo_shop) > hits_before
                    and set(attributes["Attributes"].values()) == {"0"})
        _until("the manual check message to be checked and deleted", consumed)
    finally:
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert time.monotonic() - started < 10
    assert "worker stopped" in err


@pytest.mark.slow
def test_worker_process_emails_an_alert_through_ses(api, dynamodb_cloud: str, demo_shop: str) -> None:
    """The worker process, configured with AUTOBUY_SES_FROM, e-mails the alert to the user's
    own address through SES (the local cloud keeps what SES accepted); the operators' SNS
    topic gets nothing."""
    client, settings = api
    tokens = sign_in(client, "ana.mail@example.com")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    created = client.simulate_post("/v1/items", headers=auth, json={
        "url": f"{demo_shop}/p/2", "target_price": "500.00", "currency": "EUR"})
    assert created.status_code == 201, created.text
    item_id = created.json["id"]
    verified_ses_domain("worker-mail.autobuyguard.store")
    sns = boto3.client("sns")
    topic = sns.create_topic(Name=f"{settings.table_prefix}ops")["TopicArn"]
    tap = boto3.client("sqs").create_queue(QueueName=f"{settings.table_prefix}ops-tap")["QueueUrl"]
    tap_arn = boto3.client("sqs").get_queue_attributes(
        QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=tap_arn)

    def mails_to_ana() -> list[dict]:
        with urllib.request.urlopen(dynamodb_cloud + "/localcloud/ses/messages", timeout=5) as resp:
            return [m for m in json.load(resp)["messages"] if m["destinations"] == ["ana.mail@example.com"]]

    env = {**os.environ, "AUTOBUY_ENV": "development", "AUTOBUY_AWS_ENDPOINT_URL": dynamodb_cloud,
           "AUTOBUY_TABLE_PREFIX": settings.table_prefix,
           "AUTOBUY_CHECKS_QUEUE_URL": settings.checks_queue_url,
           "AUTOBUY_URL_ALLOW_HOSTS": json.dumps(sorted(settings.url_allow_hosts)),
           "AUTOBUY_ENGINE_POLITENESS_SECONDS": "0", "AUTOBUY_ENGINE_SCHEDULER": "false",
           "AUTOBUY_SES_FROM": "AutoBuy Guard <alerts@worker-mail.autobuyguard.store>",
           "AUTOBUY_SNS_TOPIC_ARN": topic}
    assert mails_to_ana() == []
    proc = subprocess.Popen([sys.executable, "-m", "autobuy.engine.worker"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        store = DynamoEngineStore(boto3.client("dynamodb"), settings.table_prefix)
        assert Scheduler(store, SqsChecksQueue(boto3.client("sqs"), settings.checks_queue_url)).tick() == 1
        mail = _until("the alert e-mail", mails_to_ana)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert len(mail) == 1 and mail[0]["source"] == "AutoBuy Guard <alerts@worker-mail.autobuyguard.store>"
    assert mail[0]["subject"].startswith("AutoBuy Guard: your product reached your target price")
    assert f"{demo_shop}/p/2" in mail[0]["raw"]
    alerts = client.simulate_get("/v1/alerts", headers=auth).json["items"]
    assert [a["item_id"] for a in alerts] == [item_id]
    assert boto3.client("sqs").receive_message(QueueUrl=tap, WaitTimeSeconds=0).get("Messages") is None
