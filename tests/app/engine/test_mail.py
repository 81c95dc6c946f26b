"""E-mail alerts over SMTP to a tiny SMTP sink on 127.0.0.1, and failures recorded."""

from __future__ import annotations

import asyncio
import base64
import email
import logging
import socket
import socketserver
import threading
from collections.abc import Iterator
from decimal import Decimal
from email.message import Message

import pytest

from autobuy.engine.alerts import AlertEvent, AlertRule, AlertState
from autobuy.engine.dynamo_store import DynamoEngineStore
from autobuy.engine.mail import SmtpNotifier, SmtpSettings
from autobuy.engine.store import EngineItem, StoredAlert

ITEM = EngineItem("i1", "u1", "https://www.shop.de/p/1", AlertRule(Decimal("100"), "EUR"),
                  AlertState())
ALERT = StoredAlert("u1", "a1", "i1", 1_764_000_000, AlertEvent("price", Decimal("99.50"), "EUR", 1))
PASSWORD = "s3cret-smtp-pa55"


class Sink(socketserver.StreamRequestHandler):
    """Enough SMTP for smtplib: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        server: SinkServer = self.server  # type: ignore[assignment]
        envelope: dict = {"rcpt": []}
        self._reply("220 sink ESMTP")
        while line := self.rfile.readline():
            command = line.decode().rstrip("\r\n")
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._reply("250-sink\r\n250-AUTH PLAIN\r\n250 8BITMIME")
            elif verb == "HELO" or verb in ("RSET", "NOOP"):
                self._reply("250 ok")
            elif verb == "AUTH":
                server.auth.append(command.split(" ", 2)[2])
                self._reply("235 ok")
            elif verb == "MAIL":
                envelope["from"] = command[10:].strip("<>")
                self._reply("250 ok")
            elif verb == "RCPT":
                envelope["rcpt"].append(command[8:].strip("<>"))
                self._reply("250 ok")
            elif verb == "DATA":
                self._reply("354 go on")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                server.mails.append((envelope, email.message_from_bytes(data)))
                envelope = {"rcpt": []}
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")


class SinkServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Sink)
        self.mails: list[tuple[dict, Message]] = []
        self.auth: list[str] = []


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    server = SinkServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _settings(port: int, **extra: object) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", sender="alerts@autobuy.example", port=port,
                        starttls=False, timeout=3.0, **extra)  # type: ignore[arg-type]


def test_alert_mail_goes_to_the_users_own_address(sink: SinkServer,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    notifier = SmtpNotifier({"u1": "ada@example.org"}.get,
                            _settings(sink.server_address[1], username="relay", password=PASSWORD))
    assert asyncio.run(notifier.deliver(ALERT, ITEM)) == {"email": "sent"}
    (envelope, mail), = sink.mails
    assert envelope == {"from": "alerts@autobuy.example", "rcpt": ["ada@example.org"]}
    assert mail["To"] == "ada@example.org" and mail["From"] == "alerts@autobuy.example"
    assert mail["Subject"] == "AutoBuy Guard: your product reached your target price (99.50 EUR)"
    assert mail.get_content_type() == "text/plain"
    body = mail.get_payload(decode=True).decode()
    for line in ("Product: https://www.shop.de/p/1", "Price:   99.50 EUR", "Target:  100 EUR",
                 "Link:    https://www.shop.de/p/1"):
        assert line in body
    assert base64.b64decode(sink.auth[0]) == f"\0relay\0{PASSWORD}".encode()  # login happened
    assert PASSWORD not in caplog.text and sink.auth[0] not in caplog.text
    assert PASSWORD not in repr(notifier._settings)


def test_unreachable_server_is_a_failed_delivery(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    notifier = SmtpNotifier(lambda _: "ada@example.org",
                            _settings(port, username="relay", password=PASSWORD))
    assert asyncio.run(notifier.deliver(ALERT, ITEM)) == {"email": "failed: ConnectionRefusedError"}
    assert "failed: ConnectionRefusedError" in caplog.text and PASSWORD not in caplog.text


def test_starttls_required_but_not_offered_fails_without_sending(sink: SinkServer) -> None:
    settings = SmtpSettings(host="127.0.0.1", sender="alerts@autobuy.example",
                            port=sink.server_address[1], timeout=3.0)
    result = asyncio.run(SmtpNotifier(lambda _: "ada@example.org", settings).deliver(ALERT, ITEM))
    assert result == {"email": "failed: SMTPNotSupportedError"} and sink.mails == []


def test_user_without_address_is_skipped_and_logged(sink: SinkServer,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    notifier = SmtpNotifier(lambda _: None, _settings(sink.server_address[1]))
    assert asyncio.run(notifier.deliver(ALERT, ITEM)) == {"email": "skipped: no address"}
    assert "has no e-mail address" in caplog.text and sink.mails == []


def test_address_comes_from_the_users_row() -> None:
    class Db:
        def __init__(self, item: dict) -> None:
            self.item = item

        def get_item(self, **kwargs: object) -> dict:
            assert kwargs["TableName"] == "t-autobuy_users"
            return {"Item": self.item} if self.item else {}

    assert DynamoEngineStore(Db({"email": {"S": "ada@example.org"}}), "t-").email_for("u1") \
        == "ada@example.org"
    assert DynamoEngineStore(Db({}), "t-").email_for("u1") is None


def test_settings_name_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from autobuy.engine.config import EngineSettings

    monkeypatch.setenv("AUTOBUY_CHECKS_QUEUE_URL", "http://127.0.0.1/q")
    assert EngineSettings().smtp_host == ""  # off by default
    monkeypatch.setenv("AUTOBUY_SMTP_HOST", "smtp.example.org")
    with pytest.raises(ValidationError, match="AUTOBUY_SMTP_FROM"):
        EngineSettings()
    monkeypatch.setenv("AUTOBUY_SMTP_FROM", "alerts@autobuy.example")
    monkeypatch.setenv("AUTOBUY_SMTP_USERNAME", "relay")
    with pytest.raises(ValidationError, match="AUTOBUY_SMTP_PASSWORD is required"):
        EngineSettings()
    monkeypatch.setenv("AUTOBUY_SMTP_PASSWORD", PASSWORD)
    settings = EngineSettings()
    assert settings.smtp_port == 587 and settings.smtp_starttls and PASSWORD not in repr(settings)


# ---- through Amazon SES: the local cloud keeps what SES accepted ----------------------

def _ses_messages(cloud: str) -> list[dict]:
    import json
    import urllib.request

    with urllib.request.urlopen(cloud + "/localcloud/ses/messages", timeout=10) as resp:
        return json.load(resp)["messages"]


def verified_ses_domain(domain: str) -> None:
    """An SES domain identity verified as on AWS: its token in a TXT record of its zone."""
    import uuid

    import boto3

    token = boto3.client("ses").verify_domain_identity(Domain=domain)["VerificationToken"]
    route53 = boto3.client("route53")
    zone = route53.create_hosted_zone(Name=domain, CallerReference=uuid.uuid4().hex)["HostedZone"]["Id"]
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {"Name": f"_amazonses.{domain}", "Type": "TXT", "TTL": 300,
                                                  "ResourceRecords": [{"Value": f'"{token}"'}]}}]})


def test_alert_mail_goes_through_ses_to_the_users_address(localcloud: str) -> None:
    import boto3

    from autobuy.engine.mail import SesNotifier

    ses = boto3.client("ses")
    verified_ses_domain("mail-test.autobuyguard.store")
    before = len(_ses_messages(localcloud))
    notifier = SesNotifier(lambda user_id: {"u1": "ana@example.com"}.get(user_id), ses,
                           "AutoBuy Guard <alerts@mail-test.autobuyguard.store>")
    assert asyncio.run(notifier.deliver(ALERT, ITEM)) == {"email": "sent"}
    sent = _ses_messages(localcloud)[before:]
    assert [m["destinations"] for m in sent] == [["ana@example.com"]]
    assert sent[0]["source"] == "AutoBuy Guard <alerts@mail-test.autobuyguard.store>"
    mail = email.message_from_string(sent[0]["raw"])
    assert mail["To"] == "ana@example.com"
    assert mail["Subject"] == "AutoBuy Guard: your product reached your target price (99.50 EUR)"
    assert "https://www.shop.de/p/1" in mail.get_payload()


def test_ses_refusal_is_a_failed_delivery(localcloud: str, caplog: pytest.LogCaptureFixture) -> None:
    import boto3

    from autobuy.engine.mail import SesNotifier

    notifier = SesNotifier(lambda user_id: "ana@example.com", boto3.client("ses"),
                           "alerts@unverified.example")  # no identity at all
    assert asyncio.run(notifier.deliver(ALERT, ITEM)) == {"email": "failed: MessageRejected"}  # SES refuses an unverified sender
    assert "via SES failed: MessageRejected" in caplog.text


def test_ses_sender_must_be_an_address(monkeypatch: pytest.MonkeyPatch) -> None:
    from autobuy.engine.config import EngineSettings

    monkeypatch.setenv("AUTOBUY_SES_FROM", "autobuyguard.store")
    with pytest.raises(ValueError, match="AUTOBUY_SES_FROM"):
        EngineSettings(checks_queue_url="http://q")
