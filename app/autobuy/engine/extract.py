"""Price extraction: structured data first, then shop adapters, then a generic fallback.

``extract(html, url) -> Extraction`` is the engine's one entry point. Order:

1. blocked-page detection (``blocked.block_reason``): a bot wall is never a price;
2. JSON-LD (Product, Offer, AggregateOffer, ProductGroup variants, priceSpecification)
   found with a cheap text scan: when it answers, the document is never parsed;
3. otherwise one selectolax parse, then microdata, OpenGraph/product meta tags, the
   adapter for the shop's domain (``adapters``), and the generic fallback.

Sale prices win over list/UVP/crossed-out prices; per-unit prices are never taken.
Amounts are parsed with the page's locale (``money``).
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from autobuy.engine import adapters
from autobuy.engine.availability import from_schema, from_text
from autobuy.engine.blocked import block_reason
from autobuy.engine.dom import Node, parse_html
from autobuy.engine.money import PageLocale, infer_locale, parse_amount, parse_machine_amount

__all__ = ["Extraction", "decode_html", "extract", "extract_with", "product_name"]

Parser = Callable[[str], Node]

_LD_BLOCK = re.compile(
    r"<script\b[^>]*?type\s*=\s*[\"']?application/ld\+json[\"']?[^>]*>(.*?)</script\s*>",
    re.I | re.S,
)
_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_-]+)", re.I)
_TRAILING_COMMA = re.compile(r",\s*([\]}])")
_PRODUCT_TYPES = frozenset(
    {"product", "productgroup", "individualproduct", "productmodel", "someproducts", "car",
     "vehicle", "book"}
)
# A product described by structured data without a price: no heuristic fallback then,
# it would only find recommendations' or accessories' prices.
_DESCRIBED = "described"
_LIST_PRICE_TYPES = frozenset(
    {"listprice", "strikethroughprice", "msrp", "srp", "minimumadvertisedprice", "invoiceprice"}
)


@dataclass(frozen=True, slots=True)
class Extraction:
    """What a page says about the product's price.

    ``price`` is the price a buyer pays now (sale price, never list/UVP or per-unit),
    ``availability`` one of ``in_stock``, ``out_of_stock``, ``preorder`` or None,
    ``source`` where it came from: ``json-ld``, ``microdata``, ``opengraph``,
    ``adapter:<shop>``, ``generic``, ``blocked`` or ``none``.
    """

    price: Decimal | None
    currency: str | None
    availability: str | None
    source: str

    def to_json(self) -> dict[str, str | None]:
        """The ``autobuy-extract`` output shape (price as a decimal string)."""
        return {
            "price": None if self.price is None else str(self.price),
            "currency": self.currency,
            "availability": self.availability,
            "source": self.source,
        }


def decode_html(html: bytes | str) -> str:
    """Bytes to text: the page's declared charset, else UTF-8 (bad bytes replaced)."""
    if isinstance(html, str):
        return html
    match = _META_CHARSET.search(html[:4096])
    encoding = match.group(1).decode("ascii").lower() if match else "utf-8"
    try:
        return html.decode(encoding, "replace")
    except LookupError:
        return html.decode("utf-8", "replace")


def extract(html: bytes | str, url: str) -> Extraction:
    """Extract price, currency and availability from a product page fetched from ``url``."""
    if block_reason(html) is not None:  # on the raw bytes: faster than on decoded text
        return Extraction(None, None, None, "blocked")
    return _extract_text(decode_html(html), url, parse_html, fast_scan=True)


_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.I | re.S)
_MAX_NAME = 200


def _clean_name(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    name = " ".join(html_lib.unescape(value).split())
    return name[:_MAX_NAME] or None


def product_name(html: bytes | str) -> str | None:
    """The product's name as the page gives it: a JSON-LD Product's ``name``, else the
    ``og:title`` meta tag, else the document's ``<title>``; None for a bot wall or when
    the page names nothing. For showing a person what a URL points at (the preview)."""
    if block_reason(html) is not None:
        return None
    text = decode_html(html)
    if "ld+json" in text:
        for raw in (m.group(1) for m in _LD_BLOCK.finditer(text)):
            for node in _nodes(_load_block(raw)):
                if _types(node) & _PRODUCT_TYPES and (name := _clean_name(node.get("name"))):
                    return name
    tags = _meta_tags(parse_html(text))
    name = _clean_name(_meta(tags, "og:title"))
    if name:
        return name
    title = _TITLE.search(text)
    return _clean_name(title.group(1)) if title else None


def extract_with(text: str, url: str, parse: Parser, *, fast_scan: bool) -> Extraction:
    """Extraction with a chosen parser.

    ``fast_scan`` finds JSON-LD blocks and ``<html lang>`` with a text scan and parses
    the document only when structured data does not answer; without it the whole
    document is parsed first (what the BeautifulSoup baseline in bench/extract.py does).
    """
    if block_reason(text) is not None:
        return Extraction(None, None, None, "blocked")
    return _extract_text(text, url, parse, fast_scan=fast_scan)


def _extract_text(text: str, url: str, parse: Parser, *, fast_scan: bool) -> Extraction:
    doc: Node | None = None
    if fast_scan:
        lang_match = _HTML_LANG.search(text, 0, 4096)
        lang = lang_match.group(1) if lang_match else None
        blocks = [m.group(1) for m in _LD_BLOCK.finditer(text)] if "ld+json" in text else []
    else:
        doc = parse(text)
        html_node = doc if doc.tag == "html" else doc.select_first("html")
        lang = html_node.attr("lang") if html_node is not None else None
        blocks = [n.text() for n in doc.select('script[type="application/ld+json"]')]
    locale = infer_locale(urlsplit(url).hostname or "", lang)
    found = _from_jsonld(blocks, url, locale)
    if found.price is not None:
        return found
    doc = doc if doc is not None else parse(text)
    availability = found.availability
    described = found.source == _DESCRIBED
    for source in (_from_microdata, _from_meta):
        result = source(doc, locale)
        availability = availability or result.availability
        described = described or result.source == _DESCRIBED
        if result.price is not None:
            return _with_availability(result, availability)
    result = adapters.extract_for_shop(doc, url, locale)
    if result is not None:
        price, currency, shop_availability, name = result
        availability = shop_availability or availability
        if price is not None:
            return Extraction(price, currency, availability, f"adapter:{name}")
        # The shop is known and shows no payable price (e.g. "currently unavailable"):
        # the generic fallback would only find recommendations' or list prices.
        return Extraction(None, None, availability, "none")
    if described:
        return Extraction(None, None, availability, "none")
    return _with_availability(_generic(doc, locale), availability)


def _with_availability(result: Extraction, availability: str | None) -> Extraction:
    if result.availability is not None or availability is None:
        return result
    return Extraction(result.price, result.currency, availability, result.source)


# --------------------------------------------------------------------------- JSON-LD


def _load_block(raw: str) -> Any:
    raw = raw.strip()
    if raw.startswith("<!--"):
        raw = raw.removeprefix("<!--").removesuffix("-->")
    try:
        return json.loads(raw, strict=False, parse_float=Decimal)
    except ValueError:
        try:
            return json.loads(_TRAILING_COMMA.sub(r"\1", raw), strict=False, parse_float=Decimal)
        except ValueError:
            return None


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type", ())
    names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return {str(n).rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower() for n in names}


def _nodes(data: Any) -> Iterator[dict[str, Any]]:
    """Top-level entities: lists, @graph members and WebPage.mainEntity (not list items)."""
    if isinstance(data, list):
        for item in data:
            yield from _nodes(item)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity"):
            if key in data:
                yield from _nodes(data[key])


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True, slots=True)
class _Offer:
    price: Decimal | None
    currency: str | None
    availability: str | None
    used: bool


def _spec_price(specs: Any, locale: PageLocale) -> tuple[Decimal | None, str | None]:
    """The payable price from priceSpecification: not a list/strike price, not per unit."""
    for spec in _as_list(specs):
        if not isinstance(spec, dict):
            continue
        kind = str(spec.get("priceType", "")).rsplit("/", 1)[-1].lower()
        if kind in _LIST_PRICE_TYPES or spec.get("referenceQuantity") is not None:
            continue
        price = parse_machine_amount(spec.get("price"), locale)
        if price is not None:
            return price, spec.get("priceCurrency")
    return None, None


def _offers(node: dict[str, Any], locale: PageLocale) -> list[_Offer]:
    found: list[_Offer] = []
    for offer in _as_list(node.get("offers")):
        if not isinstance(offer, dict):
            continue
        nested = [o for o in _as_list(offer.get("offers")) if isinstance(o, dict)]
        if nested:
            found.extend(_offers({"offers": nested}, locale))
            continue
        price = parse_machine_amount(offer.get("price"), locale)
        currency = offer.get("priceCurrency")
        if price is None and "aggregateoffer" in _types(offer):
            price = parse_machine_amount(offer.get("lowPrice"), locale)
        if price is None:
            price, spec_currency = _spec_price(offer.get("priceSpecification"), locale)
            currency = currency or spec_currency
        condition = str(offer.get("itemCondition", "")).lower()
        found.append(_Offer(price, str(currency).upper() if currency else None,
                            from_schema(offer.get("availability")),
                            "used" in condition or "refurbished" in condition))
    return found


def _best(offers: list[_Offer]) -> _Offer | None:
    """Lowest price among buyable, new offers; else the lowest priced at all."""
    priced = [o for o in offers if o.price is not None]
    if not priced:
        return offers[0] if offers else None
    for pool in (
        [o for o in priced if not o.used and o.availability in ("in_stock", "preorder")],
        [o for o in priced if o.availability in ("in_stock", "preorder")],
        [o for o in priced if not o.used],
        priced,
    ):
        if pool:
            return min(pool, key=lambda o: o.price or Decimal(0))
    return None


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def _same_page(variant_url: Any, url: str) -> bool:
    """``variant_url`` (absolute or relative) names the page ``url``: same path, and every
    query parameter it has is in ``url`` (so tracking parameters added to the page's URL,
    e.g. ``utm_source``, do not hide the variant it names)."""
    if not isinstance(variant_url, str) or not variant_url:
        return False
    target = urlsplit(url)
    candidate = urlsplit(variant_url)
    if candidate.path != target.path or (candidate.netloc and candidate.netloc != target.netloc):
        return False
    wanted = _query(variant_url)
    return set(wanted) <= set(_query(url)) if wanted else not target.query


def _ids(node: dict[str, Any]) -> set[str]:
    return {str(node.get(k)) for k in ("sku", "productID", "gtin13", "gtin", "mpn")
            if node.get(k) not in (None, "")}


def _names(url: str, ids: set[str]) -> bool:
    """The page's URL names one of ``ids``: a query value (``?sku=ZA-42``) or the last path
    segment, whole or after a dash (``/p/ZA-42``, ``/sneaker-za-42``)."""
    if not ids:
        return False
    if any(value in ids for _name, value in _query(url)):
        return True
    last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1].lower()
    return any(last == i.lower() or last.endswith("-" + i.lower()) for i in ids)


def _named(candidates: list[dict[str, Any]], url: str) -> dict[str, Any] | None:
    """The one candidate (variant or offer) the page's URL names, if exactly one does."""
    found = [c for c in candidates
             if _same_page(c.get("url"), url) or _names(url, _ids(c))
             or any(_same_page(o.get("url"), url) for o in _as_list(c.get("offers"))
                    if isinstance(o, dict))]
    return found[0] if len(found) == 1 else None


def _variant_offers(node: dict[str, Any], url: str, locale: PageLocale) -> list[_Offer]:
    variants = [v for v in _as_list(node.get("hasVariant")) if isinstance(v, dict)]
    variant = _named(variants, url)
    if variant is not None:
        return _offers(variant, locale)
    own = _product_offers(node, url, locale)
    if any(o.price is not None for o in own):
        return own
    pooled: list[_Offer] = []
    for variant in variants:
        pooled.extend(_offers(variant, locale))
    return pooled


def _product_offers(node: dict[str, Any], url: str, locale: PageLocale) -> list[_Offer]:
    """A Product's offers; only the named one when the URL names one offer (Shopify's
    ``?variant=<id>`` offer URLs, an offer's SKU in the URL), else all of them."""
    offers = [o for o in _as_list(node.get("offers")) if isinstance(o, dict)]
    if len(offers) > 1:
        offer = _named(offers, url)
        if offer is not None:
            return _offers({"offers": [offer]}, locale)
    return _offers(node, locale)


def _collect_ids(data: Any, index: dict[str, dict[str, Any]]) -> None:
    """Every node with an ``@id`` and more than a reference's worth of properties."""
    if isinstance(data, list):
        for item in data:
            _collect_ids(item, index)
    elif isinstance(data, dict):
        ref = data.get("@id")
        if isinstance(ref, str) and len(data) > 2:
            index.setdefault(ref, data)
        for value in data.values():
            _collect_ids(value, index)


def _inline_refs(data: Any, index: dict[str, dict[str, Any]], depth: int) -> Any:
    """Replace ``{"@id": ...}`` references (e.g. Product.offers -> an Offer node in the
    @graph) by the node they name; bounded depth, so reference cycles end."""
    if depth > 8:
        return data
    if isinstance(data, list):
        return [_inline_refs(item, index, depth + 1) for item in data]
    if isinstance(data, dict):
        ref = data.get("@id")
        if isinstance(ref, str) and len(data) <= 2 and ref in index:
            return _inline_refs(index[ref], index, depth + 1)
        return {k: _inline_refs(v, index, depth + 1) for k, v in data.items()}
    return data


def _from_jsonld(blocks: list[str], url: str, locale: PageLocale) -> Extraction:
    """The JSON-LD answer; source ``described`` when a Product exists but has no price."""
    availability: str | None = None
    described = False
    documents = [doc for doc in map(_load_block, blocks) if doc is not None]
    index: dict[str, dict[str, Any]] = {}
    _collect_ids(documents, index)
    if index:
        documents = [_inline_refs(doc, index, 0) for doc in documents]
    for document in documents:
        for node in _nodes(document):
            kinds = _types(node)
            if not kinds & _PRODUCT_TYPES:
                continue
            if "productgroup" in kinds or "hasVariant" in node:
                offers = _variant_offers(node, url, locale)
            else:
                offers = _product_offers(node, url, locale)
            best = _best(offers)
            described = True
            if best is None:
                continue
            availability = availability or best.availability
            if best.price is not None:
                return Extraction(best.price, best.currency or locale.currency,
                                  best.availability, "json-ld")
    return Extraction(None, None, availability, _DESCRIBED if described else "none")


# --------------------------------------------------------------------------- microdata


def _prop_value(node: Node) -> str | None:
    for name in ("content", "href", "value", "data-price"):
        value = node.attr(name)
        if value:
            return value
    return None


def _microdata_price(scope: Node, locale: PageLocale) -> tuple[Decimal | None, str | None]:
    for css in ('[itemprop="price"]', '[itemprop="lowPrice"]'):
        for node in scope.select(css):
            machine = _prop_value(node)
            if machine is not None:
                price = parse_machine_amount(machine, locale)
                currency = None
            else:
                price, currency = parse_amount(node.text(), locale)
            if price is not None:
                return price, currency
    return None, None


def _from_microdata(doc: Node, locale: PageLocale) -> Extraction:
    product = doc.select_first('[itemscope][itemtype*="schema.org/Product"]')
    if product is None:
        return Extraction(None, None, None, "none")
    scopes = product.select('[itemprop="offers"]') or [product]
    for scope in scopes:
        price, currency = _microdata_price(scope, locale)
        cur_node = scope.select_first('[itemprop="priceCurrency"]')
        if cur_node is not None:
            currency = (_prop_value(cur_node) or cur_node.text()).strip().upper() or currency
        avail_node = scope.select_first('[itemprop="availability"]')
        availability = None
        if avail_node is not None:
            availability = from_schema(_prop_value(avail_node)) or from_text(avail_node.text())
        if price is not None:
            return Extraction(price, currency or locale.currency, availability, "microdata")
        if availability is not None:
            return Extraction(None, None, availability, _DESCRIBED)
    return Extraction(None, None, None, _DESCRIBED)


# --------------------------------------------------------------------------- meta tags


_META_CSS = 'meta[property^="product:"], meta[property^="og:"], meta[name^="product:"]'


def _meta_tags(doc: Node) -> dict[str, str]:
    """product:* and og:* meta tags in one pass (first occurrence wins)."""
    tags: dict[str, str] = {}
    for node in doc.select(_META_CSS):
        key = (node.attr("property") or node.attr("name") or "").lower()
        content = node.attr("content")
        if content and key not in tags:
            tags[key] = content
    return tags


def _meta(tags: dict[str, str], *names: str) -> str | None:
    return next((tags[name] for name in names if name in tags), None)


def _from_meta(doc: Node, locale: PageLocale) -> Extraction:
    """OpenGraph / Facebook catalog tags; a sale price tag beats the regular one."""
    tags = _meta_tags(doc)
    raw = _meta(tags, "product:sale_price:amount", "product:price:amount", "og:price:amount")
    availability = from_text(_meta(tags, "product:availability", "og:availability") or "")
    price = parse_machine_amount(raw, locale) if raw else None
    if price is None:
        return Extraction(None, None, availability, "none")
    currency = _meta(tags, "product:sale_price:currency", "product:price:currency",
                     "og:price:currency")
    return Extraction(price, (currency or locale.currency or "").upper() or None, availability,
                      "opengraph")


# --------------------------------------------------------------------------- generic


def _generic(doc: Node, locale: PageLocale) -> Extraction:
    found = adapters.generic_price(doc, locale)
    if found is None:
        return Extraction(None, None, adapters.generic_availability(doc), "none")
    price, currency = found
    return Extraction(price, currency or locale.currency, adapters.generic_availability(doc),
                      "generic")
