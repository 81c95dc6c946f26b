"""E-mail alerts to the user's own address over SMTP (standard library only).

The address is the ``email`` attribute of the user's ``autobuy_users`` row (the API
mirrors it there in ``sync_user``). Configured by ``AUTOBUY_SMTP_*``; off without a
host. A delivery failure is recorded on the alert (``{"email": "failed: ..."}``) and
logged without credentials, never raised.
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

from autobuy.engine.store import EngineItem, StoredAlert

__all__ = ["SmtpNotifier", "SmtpSettings", "alert_email"]

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


class SmtpNotifier:
    """Sends each alert to the user's e-mail address; ``lookup(user_id)`` -> address or None."""

    def __init__(self, lookup: Callable[[str], str | None], settings: SmtpSettings) -> None:
        if not settings.host or not settings.sender:
            raise ValueError("SMTP notifier needs a host and a sender address")
        self._lookup = lookup
        self._settings = settings

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
            message = alert_email(alert, item, self._settings.sender, recipient)
            await asyncio.to_thread(self._send, message)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            log.warning("e-mail alert %s to %s:%s failed: %s", alert.alert_id,
                        self._settings.host, self._settings.port, type(exc).__name__)
            return {"email": f"failed: {type(exc).__name__}"}
        return {"email": "sent"}

    def _send(self, message: EmailMessage) -> None:
        s = self._settings
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password)
            smtp.send_message(message)
