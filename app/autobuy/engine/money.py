"""Locale-aware price text parsing: we decide the separators, price-parser does the rest.

European shops write "1.299,99 €", Swiss ones "1’299.90 CHF", British ones "£1,299.99".
A parser that guesses reads "1.015 EUR" as 1.015; here the decimal separator comes from
the page's locale (``<html lang>``, the domain, the currency) whenever the text alone is
ambiguous, and only then is the text handed to ``price_parser`` with that separator.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from price_parser import Price

__all__ = [
    "PageLocale",
    "currency_from_symbol",
    "decimal_separator",
    "infer_locale",
    "parse_amount",
    "parse_machine_amount",
]

# Apostrophes and thin/narrow/no-break spaces used as thousands separators.
_GROUPING = re.compile(r"(?<=\d)[\u2019'\u02bc\u2032\u00a0\u2009\u202f ](?=\d{3}(?!\d))")
# "12,-", "12.–", "1.299,— €": a dash in place of the cents means zero cents.
_DASH_CENTS = re.compile(r"(?<=\d)[.,]\s?[-\u2013\u2014]+")
# Cdiscount-style "1299€99": the currency sign sits where the decimal separator belongs.
_SIGN_AS_SEPARATOR = re.compile(r"(?<=\d)(€|£)(\d{2})\b")
_STRICT = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")
_BOTH_SEPARATORS = re.compile(r"\d[.,]\d.*[.,]\d")

_COMMA_LANGS = frozenset(
    "de fr nl it es pt pl cs sk sl hr hu ro bg el da sv nb nn no fi et lv lt tr ru uk ca".split()
)
_DOT_LANGS = frozenset("en ja zh ko he th ms".split())
_TLD_CURRENCY = {
    "de": "EUR", "fr": "EUR", "nl": "EUR", "it": "EUR", "es": "EUR", "at": "EUR", "be": "EUR",
    "ie": "EUR", "fi": "EUR", "pt": "EUR", "gr": "EUR", "lu": "EUR", "sk": "EUR", "si": "EUR",
    "ee": "EUR", "lv": "EUR", "lt": "EUR", "eu": "EUR", "uk": "GBP", "ch": "CHF", "li": "CHF",
    "pl": "PLN", "se": "SEK", "dk": "DKK", "no": "NOK", "cz": "CZK", "hu": "HUF", "com": "USD",
    "us": "USD", "ca": "CAD", "au": "AUD",
}
_TLD_LANG = {
    "de": "de", "at": "de", "ch": "de-ch", "fr": "fr", "be": "fr", "nl": "nl", "it": "it",
    "es": "es", "pt": "pt", "pl": "pl", "se": "sv", "dk": "da", "no": "nb", "fi": "fi",
    "cz": "cs", "uk": "en-gb", "ie": "en-ie", "com": "en-us", "us": "en-us",
}
_SYMBOLS = {
    "€": "EUR", "eur": "EUR", "euro": "EUR", "£": "GBP", "gbp": "GBP", "us $": "USD",
    "$": "USD", "usd": "USD", "chf": "CHF", "fr.": "CHF", "sfr.": "CHF", "zł": "PLN",
    "pln": "PLN", "kč": "CZK", "czk": "CZK", "sek": "SEK", "dkk": "DKK", "nok": "NOK",
    "ca $": "CAD", "c $": "CAD", "au $": "AUD", "a $": "AUD",
}
_GENERIC_TLDS = frozenset({"com", "net", "org", "eu", "shop", "store", "info"})
_EURO_LANGS = frozenset("de fr nl it es pt fi el sk sl et lv lt".split())
_KRONA = {"se": "SEK", "dk": "DKK", "no": "NOK"}


class PageLocale:
    """What a page tells us about money: language tag, domain suffix, default currency."""

    __slots__ = ("lang", "tld", "currency")

    def __init__(self, lang: str | None, tld: str | None, currency: str | None) -> None:
        self.lang = lang
        self.tld = tld
        self.currency = currency

    def __repr__(self) -> str:
        return f"PageLocale(lang={self.lang!r}, tld={self.tld!r}, currency={self.currency!r})"


def _tld(host: str) -> str | None:
    host = host.lower().rstrip(".").split(":", 1)[0]
    if host.endswith(".co.uk"):
        return "uk"
    return host.rsplit(".", 1)[-1] if "." in host else None


def infer_locale(host: str, lang: str | None) -> PageLocale:
    """Combine ``<html lang>`` and the domain into a PageLocale (currency is a default only)."""
    tld = _tld(host)
    lang = (lang or "").strip().lower().replace("_", "-") or None
    if lang is None and tld:
        lang = _TLD_LANG.get(tld)
    currency = _TLD_CURRENCY.get(tld or "")
    if tld in _GENERIC_TLDS or currency is None:
        currency = _language_currency(lang) or currency
    return PageLocale(lang, tld, currency)


def _language_currency(lang: str | None) -> str | None:
    """Currency implied by a language tag: its region if any, else a euro-area language."""
    if not lang:
        return None
    primary, _, region = lang.partition("-")
    if region:
        return _TLD_CURRENCY.get("uk" if region == "gb" else region)
    return "EUR" if primary in _EURO_LANGS else None


def decimal_separator(locale: PageLocale, currency: str | None = None) -> str:
    """The decimal separator for ambiguous numbers on this page ("," or ".")."""
    lang = locale.lang or ""
    if (currency or locale.currency) == "CHF" or locale.tld in ("ch", "li") or lang.endswith("-ch"):
        return "."
    primary = lang.split("-", 1)[0]
    if primary in _COMMA_LANGS:
        return ","
    if primary in _DOT_LANGS:
        return "."
    if locale.tld in _TLD_LANG:
        return "," if _TLD_LANG[locale.tld].split("-", 1)[0] in _COMMA_LANGS else "."
    return "."


def currency_from_symbol(symbol: str | None, locale: PageLocale) -> str | None:
    """Map a currency sign or code found in text to ISO 4217, using the locale for "kr"."""
    if not symbol:
        return None
    key = re.sub(r"\s+", " ", symbol.strip().lower())
    key = re.sub(r"(?<=[a-z]) ?\$", " $", key)
    if key in ("kr", "kr."):
        return _KRONA.get(locale.tld or "")
    if key == "$" and locale.currency in ("CAD", "AUD"):
        return locale.currency
    if len(key) == 3 and key.isalpha() and key.upper() not in ("EUR", "USD"):
        return key.upper()
    return _SYMBOLS.get(key)


def _normalise(text: str) -> str:
    text = _SIGN_AS_SEPARATOR.sub(r",\2 \1", text)
    text = _DASH_CENTS.sub("", text)
    return _GROUPING.sub("", text)


def parse_amount(text: str, locale: PageLocale) -> tuple[Decimal | None, str | None]:
    """Parse a human-written price ("1.299,99 €") -> (amount, ISO currency or None).

    When the text has both separators the last one is the decimal separator; otherwise
    the page locale decides. Zero and negative amounts are no price.
    """
    if not text or not any(ch.isdigit() for ch in text):
        return None, None
    cleaned = _normalise(text)
    price = Price.fromstring(cleaned, decimal_separator=_separator_for(cleaned, locale, text))
    currency = currency_from_symbol(price.currency, locale)
    amount = price.amount
    if amount is None or amount <= 0:
        return None, currency
    return amount, currency


def _separator_for(cleaned: str, locale: PageLocale, original: str) -> str:
    if _BOTH_SEPARATORS.search(cleaned):
        dot, comma = cleaned.rfind("."), cleaned.rfind(",")
        return "." if dot > comma else ","
    hint = Price.fromstring(original).currency
    return decimal_separator(locale, currency_from_symbol(hint, locale))


def parse_machine_amount(value: object, locale: PageLocale) -> Decimal | None:
    """A structured-data price: a JSON number or "1299.99" (schema.org dot decimal).

    Shops that put a localised string ("1.299,99") into structured data are read with
    :func:`parse_amount`.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, Decimal)):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str) and _STRICT.match(value):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            return None
    elif isinstance(value, str):
        amount = parse_amount(value, locale)[0]
        if amount is None:
            return None
    else:
        return None
    return amount if amount > 0 else None
