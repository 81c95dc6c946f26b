"""Locale-aware number parsing: the separators come from the page, not from guessing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autobuy.engine.money import infer_locale, parse_amount, parse_machine_amount

DE = infer_locale("www.amazon.de", "de-DE")
CH = infer_locale("www.galaxus.ch", "de")
UK = infer_locale("www.amazon.co.uk", "en-GB")
US = infer_locale("www.amazon.com", "en-US")
FR = infer_locale("www.fnac.com", "fr-FR")
NL = infer_locale("www.bol.com", "nl-NL")


@pytest.mark.parametrize(
    ("text", "locale", "amount", "currency"),
    [
        ("1.299,99 €", DE, "1299.99", "EUR"),
        ("1’299.90 CHF", CH, "1299.90", "CHF"),
        ("1'299.90 CHF", CH, "1299.90", "CHF"),
        ("1.015 EUR", DE, "1015", "EUR"),
        ("1.015", CH, "1.015", None),
        ("£1,299.99", UK, "1299.99", "GBP"),
        ("1,299", US, "1299", None),
        ("1\u202f299,99\u00a0€", FR, "1299.99", "EUR"),
        ("1\u2009299,99 €", FR, "1299.99", "EUR"),
        ("1 299,99 €", FR, "1299.99", "EUR"),
        ("EUR 12,-", DE, "12", "EUR"),
        ("12,–", DE, "12", None),
        ("1.299,— €", DE, "1299", "EUR"),
        ("CHF 1’299.–", CH, "1299", "CHF"),
        ("1299€99", FR, "1299.99", "EUR"),
        ("US $1,299.99", US, "1299.99", "USD"),
        ("€ 1.299,99", NL, "1299.99", "EUR"),
        ("12,99", DE, "12.99", None),
        ("1.234.567,89 €", DE, "1234567.89", "EUR"),
        ("1,234,567.89", US, "1234567.89", None),
        ("ab 3,49 €*", DE, "3.49", "EUR"),
    ],
)
def test_amounts_follow_the_page_locale(text: str, locale, amount: str, currency) -> None:  # noqa: ANN001
    assert parse_amount(text, locale) == (Decimal(amount), currency)


@pytest.mark.parametrize("text", ["", "kostenlos", "0,00 €", "Preis auf Anfrage", "-"])
def test_no_amount_is_no_price(text: str) -> None:
    assert parse_amount(text, DE)[0] is None


@pytest.mark.parametrize(
    ("value", "amount"),
    [("1299.99", "1299.99"), (Decimal("1299.99"), "1299.99"), (1299, "1299"), (12.5, "12.5"),
     ("1.299,99", "1299.99"), (" 49.90 ", "49.90")],
)
def test_structured_amounts_are_dot_decimal(value: object, amount: str) -> None:
    assert parse_machine_amount(value, DE) == Decimal(amount)


@pytest.mark.parametrize("value", [None, True, "0", 0, "-5", "", "n/a", [], {}])
def test_structured_non_amounts_are_none(value: object) -> None:
    assert parse_machine_amount(value, DE) is None


@pytest.mark.parametrize(
    ("host", "lang", "currency"),
    [("www.amazon.de", None, "EUR"), ("www.amazon.co.uk", "en-GB", "GBP"),
     ("www.cdiscount.com", "fr-FR", "EUR"), ("www.galaxus.ch", "de", "CHF"),
     ("www.amazon.com", "en-US", "USD"), ("shop.example.com", "de-CH", "CHF")],
)
def test_default_currency_from_domain_and_language(host: str, lang, currency: str) -> None:  # noqa: ANN001
    assert infer_locale(host, lang).currency == currency
