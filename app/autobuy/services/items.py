"""Tracked items: validation, tier limits, manual checks."""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from autobuy.config import Settings
from autobuy.errors import AuthFailed, InvalidInput, LimitReached, NotFound
from autobuy.models import Item, Page, User
from autobuy.repositories.base import CheckQueue, ItemRepository, UserRepository
from autobuy.services.preview import FetchOnce, Preview, PreviewFetcher, preview_page
from autobuy.services.ratelimit import Limiter
from autobuy.services.urls import validate_item_url

# ISO 4217 active codes (2024).
ISO_CURRENCIES = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
""".split())
MAX_PRICE = Decimal("1000000000")
MAX_TITLE = 200
STATUSES = ("active", "paused")
_PAGE_MAX = 100


@dataclass(frozen=True)
class ItemInput:
    url: str | None = None
    title: str | None = None
    target_price: Decimal | None = None
    currency: str | None = None
    auto_buy: bool | None = None
    status: str | None = None
    alert_drop_percent: Decimal | None = None
    alert_back_in_stock: bool | None = None
    clear: frozenset[str] = frozenset()  # optional fields sent as null on a patch: removed


def parse_price(value: Any) -> Decimal:
    """A positive decimal with at most 2 decimal places, from a string or a JSON number."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidInput("target_price: must be a positive decimal, e.g. \"199.99\"")
    text = str(value).strip()
    if not re.fullmatch(r"\d{1,10}(\.\d{1,2})?", text):
        raise InvalidInput("target_price: must be a positive decimal with at most 2 decimal places")
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise InvalidInput("target_price: must be a positive decimal") from None
    if price <= 0 or price > MAX_PRICE:
        raise InvalidInput(f"target_price: must be greater than 0 and at most {MAX_PRICE}")
    return price


def parse_drop_percent(value: Any) -> Decimal:
    """A percentage greater than 0 and below 100, at most 2 decimal places."""
    text = "" if isinstance(value, bool) or not isinstance(value, (str, int, float)) else str(value).strip()
    if not re.fullmatch(r"\d{1,2}(\.\d{1,2})?", text) or Decimal(text) <= 0:
        raise InvalidInput("alert_drop_percent: must be a percentage above 0 and below 100, "
                           "e.g. \"10\" or \"12.5\", or null")
    return Decimal(text)


def parse_currency(value: Any) -> str:
    if not isinstance(value, str) or value.upper() not in ISO_CURRENCIES:
        raise InvalidInput("currency: must be an ISO 4217 code such as EUR, USD or GBP")
    return value.upper()


def parse_item_input(body: Any, *, partial: bool, allow_hosts: frozenset[str]) -> ItemInput:
    """Validate a create (partial=False) or patch (partial=True) body."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    known = {"url", "title", "target_price", "currency", "auto_buy", "status",
             "alert_drop_percent", "alert_back_in_stock"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}")
    if not partial:
        missing = [name for name in ("url", "target_price", "currency") if body.get(name) is None]
        if missing:
            raise InvalidInput(f"missing field(s): {', '.join(missing)}")
    elif not body:
        raise InvalidInput("nothing to change")
    values: dict[str, Any] = {}
    if "url" in body:
        if not isinstance(body["url"], str):
            raise InvalidInput("url: must be a string")
        values["url"] = validate_item_url(body["url"], allow_hosts)
    if "title" in body and body["title"] is not None:
        if not isinstance(body["title"], str) or len(body["title"]) > MAX_TITLE:
            raise InvalidInput(f"title: must be a string of at most {MAX_TITLE} characters")
        values["title"] = body["title"].strip()
    if "target_price" in body:
        values["target_price"] = parse_price(body["target_price"])
    if "currency" in body:
        values["currency"] = parse_currency(body["currency"])
    if "auto_buy" in body:
        if not isinstance(body["auto_buy"], bool):
            raise InvalidInput("auto_buy: must be true or false")
        values["auto_buy"] = body["auto_buy"]
    if "status" in body:
        if body["status"] not in STATUSES:
            raise InvalidInput(f"status: must be one of {', '.join(STATUSES)}")
        values["status"] = body["status"]
    if body.get("alert_drop_percent") is not None:
        values["alert_drop_percent"] = parse_drop_percent(body["alert_drop_percent"])
    elif "alert_drop_percent" in body and partial:
        values["clear"] = frozenset({"alert_drop_percent"})
    if "alert_back_in_stock" in body:
        if not isinstance(body["alert_back_in_stock"], bool):
            raise InvalidInput("alert_back_in_stock: must be true or false")
        values["alert_back_in_stock"] = body["alert_back_in_stock"]
    return ItemInput(**values)


def page_limit(raw: str | None, default: int = 20) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= _PAGE_MAX:
        raise InvalidInput(f"limit: must be an integer from 1 to {_PAGE_MAX}")
    return int(raw)


class ItemService:
    """Item use cases. Methods take the caller's user id; the tier is loaded only when needed."""

    def __init__(self, *, items: ItemRepository, users: UserRepository, queue: CheckQueue,
                 settings: Settings, limiter: Limiter,
                 previewer: PreviewFetcher | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._items = items
        self._previewer = previewer or FetchOnce(settings.url_allow_hosts)
        self._users = users
        self._queue = queue
        self._settings = settings
        self._limiter = limiter
        self._clock = clock

    def user(self, user_id: str) -> User:
        user = self._users.get(user_id)
        if user is None:  # a valid token for a deleted account
            raise AuthFailed("the account no longer exists")
        return user

    def _check_auto_buy(self, user_id: str, wanted: bool | None) -> None:
        if wanted and not self._settings.tier(self.user(user_id).tier).auto_buy:  # only loads when asked
            raise LimitReached("auto-buy is only available on the ultra tier")

    def create(self, user_id: str, data: ItemInput) -> Item:
        user = self.user(user_id)
        if data.auto_buy and not self._settings.tier(user.tier).auto_buy:
            raise LimitReached("auto-buy is only available on the ultra tier")
        now = int(self._clock())
        item = Item(item_id=uuid.uuid4().hex, user_id=user.id, url=data.url or "",
                    title=data.title, target_price=data.target_price or Decimal(0),
                    currency=data.currency or "", auto_buy=bool(data.auto_buy),
                    status=data.status or "active", created_at=now, updated_at=now,
                    last_checked=0, next_check_at=now, alert_drop_percent=data.alert_drop_percent,
                    alert_back_in_stock=bool(data.alert_back_in_stock))
        self._items.create(item, item_limit=self._settings.tier(user.tier).item_limit)
        return item

    def get(self, user_id: str, item_id: str) -> Item:
        item = self._items.get(user_id, item_id)
        if item is None:
            raise NotFound("no such item")
        return item

    def list(self, user_id: str, limit: int, cursor: str | None) -> Page:
        return self._items.list(user_id, limit=limit, cursor=cursor)

    def update(self, user_id: str, item_id: str, data: ItemInput) -> Item:
        self._check_auto_buy(user_id, data.auto_buy)
        changes: dict[str, Any] = {k: v for k, v in data.__dict__.items()
                                   if v is not None and k != "clear"}
        changes.update(dict.fromkeys(data.clear))
        changes["updated_at"] = int(self._clock())
        item = self._items.update(user_id, item_id, changes)
        if item is None:
            raise NotFound("no such item")
        return item

    def delete(self, user_id: str, item_id: str) -> None:
        if not self._items.delete(user_id, item_id):
            raise NotFound("no such item")

    def history(self, user_id: str, item_id: str, limit: int, cursor: str | None) -> Page:
        self.get(user_id, item_id)
        return self._items.history(item_id, limit=limit, cursor=cursor)

    def request_check(self, user_id: str, item_id: str, client_ip: str) -> int:
        """Ask for an immediate check (rate limited per user and per IP)."""
        user = self.user(user_id)
        self._limit_checks(user, client_ip)
        now = int(self._clock())
        if not self._items.request_check(user.id, item_id, now):
            raise NotFound("no such item")
        self._queue.enqueue(user.id, item_id)
        return now

    def _limit_checks(self, user: User, client_ip: str) -> None:
        """Manual checks and previews share one budget: both make the server fetch a shop."""
        self._limiter.hit(f"check-ip:{client_ip}", limit=self._settings.check_per_minute_ip, window=60)
        self._limiter.hit(f"check-user:{user.id}",
                          limit=self._settings.tier(user.tier).manual_checks_per_hour, window=3600)

    def preview(self, user_id: str, url: Any, client_ip: str) -> Preview:
        """What a check of ``url`` would see now; nothing is stored (rate limited like checks)."""
        if not isinstance(url, str):
            raise InvalidInput("url: must be a string")
        checked = validate_item_url(url, self._settings.url_allow_hosts)
        self._limit_checks(self.user(user_id), client_ip)
        return preview_page(self._previewer, checked, self._clock)

    def me(self, user_id: str) -> dict[str, Any]:
        user = self.user(user_id)
        return {"user": {"id": user.id, "email": user.email, "name": user.name, "tier": user.tier},
                "limits": self._settings.tier(user.tier).model_dump(),
                "usage": {"items": self._items.count(user.id)}}
