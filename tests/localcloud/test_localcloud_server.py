"""The HTTP server of the local cloud keeps connections open between AWS calls."""
from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.request
import uuid
from urllib.parse import urlsplit

import boto3


def test_one_connection_serves_many_calls(localcloud: str) -> None:
    url = urlsplit(localcloud)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request("GET", "/localcloud/calls")
        first = conn.getresponse()
        assert first.status == 200 and (first.getheader("Connection") or "").lower() != "close"
        json.loads(first.read())
        sock = conn.sock
        for _ in range(3):
            conn.request("GET", "/localcloud/calls")
            again = conn.getresponse()
            again.read()
            assert again.status == 200
        assert conn.sock is sock  # http.client reconnects (new socket) after a close
    finally:
        conn.close()


def test_boto3_reuses_its_connection(localcloud: str) -> None:
    client = boto3.client("sts")
    opened = []
    pool_manager = client._endpoint.http_session._manager  # noqa: SLF001 - urllib3 pools
    client.get_caller_identity()
    pool = next(iter(pool_manager.pools._container.values()))  # noqa: SLF001
    original = pool._new_conn  # noqa: SLF001

    def counting_new_conn():  # type: ignore[no-untyped-def]
        opened.append(1)
        return original()

    pool._new_conn = counting_new_conn  # noqa: SLF001
    for _ in range(5):
        client.get_caller_identity()
    assert opened == []


def test_heap_settled_after_the_first_call_of_each_service(monkeypatch) -> None:
    import localcloud.__main__ as cli

    settled: list[int] = []
    monkeypatch.setattr(cli, "_settle_heap", lambda: settled.append(1))
    calls: list[str] = []

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        calls.append(environ.get("PATH_INFO", ""))
        return [b"ok"]

    wrapped = cli._SettleAfterFirstCall(app)

    def auth(service: str) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=localcloud/20260101/eu-central-1/"
                                      f"{service}/aws4_request, SignedHeaders=host, Signature=x"}

    assert wrapped(auth("dynamodb"), None) == [b"ok"]
    assert settled == [1]
    wrapped(auth("dynamodb"), None)
    wrapped({"PATH_INFO": "/localcloud/calls"}, None)  # unsigned: no service, nothing to settle
    assert settled == [1]
    wrapped(auth("sqs"), None)
    assert settled == [1, 1] and len(calls) == 4


def _waiting_polls(localcloud: str) -> int:
    with urllib.request.urlopen(localcloud + "/localcloud/calls/in-flight", timeout=5) as resp:
        return json.load(resp)["by_service"].get("sqs", {}).get("ReceiveMessage", 0)


def test_long_polls_do_not_hold_up_other_calls(localcloud: str) -> None:
    """SQS long polls keep a server thread each for their wait; other calls still answer."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"poll-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    pollers = [threading.Thread(target=lambda: boto3.client("sqs").receive_message(
        QueueUrl=url, WaitTimeSeconds=5)) for _ in range(6)]
    try:
        for poller in pollers:
            poller.start()
        deadline = time.monotonic() + 4  # the polls wait 5 s: all six must be seen waiting
        while (waiting := _waiting_polls(localcloud)) < 6:
            assert time.monotonic() < deadline, f"only {waiting} of 6 long polls reached the server"
            time.sleep(0.02)
        started = time.monotonic()
        boto3.client("sts").get_caller_identity()
        assert time.monotonic() - started < 1.5
        assert _waiting_polls(localcloud) == 6  # measured while all six were still waiting
    finally:
        for poller in pollers:
            poller.join(timeout=10)
        sqs.delete_queue(QueueUrl=url)


def test_in_flight_counts_calls_until_they_are_answered(localcloud: str) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"poll-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    try:
        assert _waiting_polls(localcloud) == 0
        poller = threading.Thread(target=lambda: sqs.receive_message(QueueUrl=url,
                                                                     WaitTimeSeconds=3))
        poller.start()
        deadline = time.monotonic() + 2.5
        while _waiting_polls(localcloud) != 1:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        sqs.send_message(QueueUrl=url, MessageBody="wake up")  # answers the poll at once
        poller.join(timeout=10)
        assert _waiting_polls(localcloud) == 0
    finally:
        sqs.delete_queue(QueueUrl=url)
