"""Shop adapters (declarative CSS) and the generic fallback.

An adapter names the shop's *payable* price elements in order of preference; list,
UVP, crossed-out and per-unit prices are simply never named. Shops that split a price
into whole and fraction elements ("1.299" + "99", bol.com's "1299" + "-") are read
through ``split_price`` pairs. Adapters are only consulted when structured data
(JSON-LD, microdata, product meta tags) did not give a price.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from autobuy.engine.availability import from_schema, from_text
from autobuy.engine.dom import Node
from autobuy.engine.money import PageLocale, decimal_separator, parse_amount

__all__ = ["ADAPTERS", "ShopAdapter", "adapter_for", "extract_for_shop", "generic_availability",
           "generic_price"]


@dataclass(frozen=True, slots=True)
class ShopAdapter:
    """Where one shop puts its payable price and availability."""

    name: str
    domains: tuple[str, ...]
    price: tuple[str, ...]
    split_price: tuple[tuple[str, str], ...] = ()
    availability: tuple[str, ...] = ()


ADAPTERS: tuple[ShopAdapter, ...] = (
    ShopAdapter(
        name="amazon",
        domains=("amazon.de", "amazon.com", "amazon.co.uk", "amazon.fr", "amazon.it",
                 "amazon.es", "amazon.nl"),
        price=(
            "#corePriceDisplay_desktop_feature_div .priceToPay .a-offscreen",
            "#corePrice_feature_div .a-price:not([data-a-strike]) .a-offscreen",
            "#apex_desktop .apexPriceToPay .a-offscreen",
            "#priceblock_dealprice",
            "#priceblock_ourprice",
            "#price_inside_buybox",
        ),
        split_price=((".priceToPay .a-price-whole", ".priceToPay .a-price-fraction"),),
        availability=("#availability", "#outOfStock", "#preOrderMessage"),
    ),
    ShopAdapter(
        name="ebay",
        domains=("ebay.de", "ebay.com", "ebay.co.uk", "ebay.fr", "ebay.it", "ebay.es"),
        price=(".x-price-primary .ux-textspans", "#prcIsum", "#mm-saleDscPrc"),
        availability=(".x-quantity__availability", "#qtySubTxt", ".d-quantity__availability",
                      ".ux-message-status"),
    ),
    ShopAdapter(
        name="otto",
        domains=("otto.de",),
        price=('[data-qa="price"] .pdp_price__retail-price', ".js_pdp_price__retail-price",
               '[data-qa="price"]'),
        availability=(".pdp_availability", '[data-qa="deliveryInfo"]'),
    ),
    ShopAdapter(
        name="mediamarkt",
        domains=("mediamarkt.de", "saturn.de", "mediamarkt.at", "mediamarkt.nl"),
        price=('[data-test="mms-product-price"] [data-test="branded-price-sr-only"]',),
        split_price=(
            ('[data-test="mms-product-price"] [data-test="branded-price-whole-value"]',
             '[data-test="mms-product-price"] [data-test="branded-price-decimal-value"]'),
        ),
        availability=('[data-test="mms-delivery-online-availability"]',),
    ),
    ShopAdapter(
        name="zalando",
        domains=("zalando.de", "zalando.fr", "zalando.nl", "zalando.co.uk", "zalando.ch"),
        price=('[data-testid="pdp-price-container"] [data-testid="pdp-price-sale"]',
               '[data-testid="pdp-price-container"] [data-testid="pdp-price"]'),
        availability=('[data-testid="pdp-stock-info"]', '[data-testid="pdp-add-to-cart"]'),
    ),
    ShopAdapter(
        name="bol",
        domains=("bol.com",),
        price=(),
        split_price=((".buy-block .promo-price", ".buy-block .promo-price__fraction"),),
        availability=('[data-test="delivery-highlight"]', ".buy-block__highlight"),
    ),
    ShopAdapter(
        name="galaxus",
        domains=("galaxus.ch", "digitec.ch", "galaxus.de"),
        price=('[data-test="product-price"] [data-test="current-price"]',
               '[data-test="product-price"] strong'),
        availability=('[data-test="availability"]',),
    ),
    ShopAdapter(
        name="fnac",
        domains=("fnac.com", "fnac.be"),
        price=(".f-faPriceBox .f-faPriceBox__price.userPrice", ".f-faPriceBox__price"),
        availability=(".f-buyBox-availabilityStatus", ".f-buyBox-availability"),
    ),
    ShopAdapter(
        name="cdiscount",
        domains=("cdiscount.com", "cdiscount.fr"),
        price=(".fpPriceBloc .fpPrice", ".c-price--promo", ".fpPrice"),
        availability=(".fpStock", ".c-availability"),
    ),
)


def adapter_for(host: str) -> ShopAdapter | None:
    """The adapter whose domain is ``host`` or a parent of it."""
    host = host.lower().rstrip(".")
    for adapter in ADAPTERS:
        if any(host == d or host.endswith("." + d) for d in adapter.domains):
            return adapter
    return None


def _split_text(doc: Node, whole_css: str, fraction_css: str, locale: PageLocale) -> str | None:
    whole = doc.select_first(whole_css)
    if whole is None:
        return None
    fraction = doc.select_first(fraction_css)
    fraction_text = fraction.text().strip() if fraction is not None else ""
    whole_text = whole.text().strip()
    if fraction_text and whole_text.endswith(fraction_text):
        whole_text = whole_text[: -len(fraction_text)]
    whole_text = whole_text.strip().rstrip(".,")
    cents = re.sub(r"\D", "", fraction_text) or "00"
    return f"{whole_text}{decimal_separator(locale)}{cents}"


def extract_for_shop(
    doc: Node, url: str, locale: PageLocale
) -> tuple[Decimal | None, str | None, str | None, str] | None:
    """(price, currency, availability, adapter name), or None when no adapter applies."""
    adapter = adapter_for(urlsplit(url).hostname or "")
    if adapter is None:
        return None
    price: Decimal | None = None
    currency: str | None = None
    for css in adapter.price:
        for node in doc.select(css):
            price, currency = parse_amount(node.text(), locale)
            if price is not None:
                break
        if price is not None:
            break
    for whole_css, fraction_css in adapter.split_price if price is None else ():
        text = _split_text(doc, whole_css, fraction_css, locale)
        if text is not None:
            price, currency = parse_amount(text, locale)
            if price is not None:
                break
    availability = None
    for css in adapter.availability:
        node = doc.select_first(css)
        if node is not None:
            availability = from_text(node.text())
            if availability:
                break
    return price, currency or locale.currency, availability, adapter.name


# --------------------------------------------------------------------------- generic

_CANDIDATES = '[class*="price" i], [id*="price" i], [data-price], [data-testid*="price" i]'
_EXCLUDE = re.compile(
    r"old|strike|crossed|was|before|regular|original|list|uvp|rrp|msrp|compare|"
    r"unit|base-?price|grundpreis|per-|perunit|reference|instead|statt|saving|"
    r"shipping|delivery|installment|finanz",
    re.I,
)
_PER_UNIT = re.compile(
    r"(/|pro|per|je)\s*(\d+\s*)?(kg|g|l|ml|cl|m|m²|100\s*g|100\s*ml|stück|stk|st\.|unit|piece|"
    r"each|kilo|liter|litre)\b",
    re.I,
)
_STRUCK_TAGS = frozenset({"del", "s", "strike"})
_CURRENCY_HINT = re.compile(r"[€£$]|\b(EUR|CHF|GBP|USD|PLN|SEK|DKK|NOK|CZK|kr)\b|\bS?Fr\.", re.I)
_MAX_TEXT = 48


def _excluded(node: Node) -> bool:
    current: Node | None = node
    for _depth in range(4):
        if current is None or current.tag in ("body", "html"):
            return False
        if current.tag in _STRUCK_TAGS:
            return True
        marker = " ".join(filter(None, (current.attr("class"), current.attr("id"),
                                        current.attr("data-testid"))))
        if _EXCLUDE.search(marker) or "line-through" in (current.attr("style") or ""):
            return True
        current = current.parent
    return False


def generic_price(doc: Node, locale: PageLocale) -> tuple[Decimal, str | None] | None:
    """First plausible payable price in document order, skipping struck/list/unit prices."""
    for node in doc.select(_CANDIDATES):
        if node.tag in ("script", "style", "meta", "link", "body", "html") or _excluded(node):
            continue
        if node.select_first(_CANDIDATES) is not None:
            continue  # a container: its own price elements are judged one by one
        text = " ".join(node.text().split())
        if not text or len(text) > _MAX_TEXT or _PER_UNIT.search(text):
            continue
        if not _CURRENCY_HINT.search(text):
            continue
        price, currency = parse_amount(text, locale)
        if price is not None:
            return price, currency
    return None


def generic_availability(doc: Node) -> str | None:
    """Availability from schema links or stock/availability/delivery elements."""
    link = doc.select_first('[itemprop="availability"]')
    if link is not None:
        found = from_schema(link.attr("href") or link.attr("content")) or from_text(link.text())
        if found:
            return found
    for node in doc.select('[class*="availability" i], [class*="stock" i], [id*="availability" i]'):
        found = from_text(node.text())
        if found:
            return found
    return None
