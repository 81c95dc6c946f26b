"""E-mail alerts to the user's own address: through Amazon SES (``AUTOBUY_SES_FROM``, the
stack's way) or over SMTP (``AUTOBUY_SMTP_*``, standard library only).

The address is the ``email`` attribute of the user's ``autobuy_users`` row (the API
mirrors it there in ``sync_user``). Each channel is off without its setting. A delivery
failure is recorded on the alert (``{"email": "failed: ..."}``) and logged without
credentials, never raised.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from autobuy.engine.store import EngineItem, StoredAlert

__all__ = ["SesNotifier", "SmtpNotifier", "SmtpSettings", "alert_email"]

log = logging.getLogger("autobuy.engine.mail")

_HEADLINES = {"price": "reached your target price", "drop": "dropped in price",
              "back_in_stock": "is back in stock"}


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    sender: str
    port: int = 587
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = True
    timeout: float = 10.0


def alert_email(alert: StoredAlert, item: EngineItem, sender: str, recipient: str) -> EmailMessage:
    """The plain-text message: product (its URL), price, target and link."""
    event = alert.event
    headline = _HEADLINES.get(event.kind, f"triggered a {event.kind} alert")
    price = "unknown" if event.price is None else f"{event.price} {event.currency or ''}".strip()
    target = ("none" if item.rule.target_price is None
              else f"{item.rule.target_price} {item.rule.currency}")
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = f"AutoBuy Guard: your product {headline} ({price})"
    msg["Message-ID"] = make_msgid(domain="autobuy-guard")
    msg.set_content(
        f"Your tracked product {headline}.\n\n"
        f"Product: {item.url}\n"
        f"Price:   {price}\n"
        f"Target:  {target}\n"
        f"Link:    {item.url}\n\n"
        f"Item {alert.item_id}, alert {alert.alert_id}.\n")
    return msg


class _EmailNotifier:
    """Sends each alert to the user's e-mail address; ``lookup(user_id)`` -> address or None.
    Subclasses say how a message leaves (``_send``) and name the route for logs (``_route``)."""

    _sender: str
    _lookup: Callable[[str], str | None]
    _errors: tuple[type[BaseException], ...] = (OSError, ValueError)

    def _route(self) -> str:
        raise NotImplementedError

    def _send(self, message: EmailMessage) -> None:
        raise NotImplementedError

    async def deliver(self, alert: StoredAlert, item: EngineItem) -> dict[str, str]:
        try:
            recipient = await asyncio.to_thread(self._lookup, alert.user_id)
        except Exception as exc:  # noqa: BLE001 - a failed lookup is a failed delivery
            log.warning("e-mail alert %s: address lookup failed: %s", alert.alert_id,
                        type(exc).__name__)
            return {"email": f"failed: {type(exc).__name__}"}
        if not recipient:
            log.info("e-mail alert %s skipped: user %s has no e-mail address",
                     alert.alert_id, alert.user_id)
            return {"email": "skipped: no address"}
        try:
            message = alert_email(alert, item, self._sender, recipient)
            await asyncio.to_thread(self._send, message)
        except self._errors as exc:
            log.warning("e-mail alert %s via %s failed: %s", alert.alert_id, self._route(),
                        type(exc).__name__)
            return {"email": f"failed: {type(exc).__name__}"}
        return {"email": "sent"}


class SesNotifier(_EmailNotifier):
    """Through Amazon SES (``SendRawEmail``) from ``sender``, an address of the stack's
    verified domain identity (the mail tier). ``client``: a boto3 ``ses`` client."""

    def __init__(self, lookup: Callable[[str], str | None], client: Any, sender: str,
                 *, configuration_set: str = "") -> None:
        if "@" not in sender:
            raise ValueError("SES notifier needs a sender address")
        from botocore.exceptions import BotoCoreError, ClientError

        self._lookup = lookup
        self._ses = client
        self._sender = sender
        self._configuration_set = configuration_set
        self._errors = (BotoCoreError, ClientError, OSError, ValueError)

    def _route(self) -> str:
        return "SES"

    def _send(self, message: EmailMessage) -> None:
        extra = {"ConfigurationSetName": self._configuration_set} if self._configuration_set else {}
        # No Destinations: SES takes the recipients from the message's To header.
        self._ses.send_raw_email(Source=self._sender, RawMessage={"Data": message.as_bytes()}, **extra)


class SmtpNotifier(_EmailNotifier):
    """Over SMTP to ``settings.host``."""

    _errors = (smtplib.SMTPException, OSError, ValueError)

    def __init__(self, lookup: Callable[[str], str | None], settings: SmtpSettings) -> None:
        if not settings.host or not settings.sender:
            raise ValueError("SMTP notifier needs a host and a sender address")
        self._lookup = lookup
        self._settings = settings
        self._sender = settings.sender

    def _route(self) -> str:
        return f"{self._settings.host}:{self._settings.port}"

    def _send(self, message: EmailMessage) -> None:
        s = self._settings
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password)
            smtp.send_message(message)
