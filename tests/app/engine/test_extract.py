"""Extraction over the corpus of shop pages, the JSON-LD fast path, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from autobuy.engine.cli import main
from autobuy.engine.extract import Extraction, decode_html, extract, extract_with, product_name

CORPUS = Path(__file__).parent / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
VENV_BIN = Path(sys.executable).parent


def test_corpus_is_large_and_covers_every_source() -> None:
    assert len(MANIFEST) >= 40
    sources = {entry["source"] for entry in MANIFEST}
    assert {"json-ld", "microdata", "opengraph", "generic", "blocked", "none"} <= sources
    shops = {s.split(":", 1)[1] for s in sources if s.startswith("adapter:")}
    assert {"amazon", "ebay"} <= shops and len(shops - {"amazon", "ebay"}) >= 4
    assert {e["availability"] for e in MANIFEST} >= {"in_stock", "out_of_stock", "preorder", None}


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_corpus_page(entry: dict) -> None:
    result = extract((CORPUS / entry["file"]).read_bytes(), entry["url"])
    expected_price = Decimal(entry["price"]) if entry["price"] is not None else None
    assert (result.price, result.currency, result.availability, result.source) == (
        expected_price, entry["currency"], entry["availability"], entry["source"]
    ), entry["tests"]


def _refuse_parse(text: str):  # noqa: ANN202 - a Parser that must not be called
    raise AssertionError("the document was parsed although JSON-LD answered")


@pytest.mark.parametrize(
    "entry", [e for e in MANIFEST if e["source"] == "json-ld"], ids=lambda e: e["file"]
)
def test_json_ld_answers_without_parsing_the_document(entry: dict) -> None:
    text = (CORPUS / entry["file"]).read_text(encoding="utf-8")
    assert extract_with(text, entry["url"], _refuse_parse, fast_scan=True).source == "json-ld"


def test_blocked_pages_never_carry_a_price() -> None:
    blocked = [e for e in MANIFEST if e["source"] == "blocked"]
    assert len(blocked) >= 5
    for entry in blocked:
        result = extract((CORPUS / entry["file"]).read_bytes(), entry["url"])
        assert result == Extraction(None, None, None, "blocked")


def test_declared_windows_1252_charset_is_honoured() -> None:
    html = ('<html lang="de"><head><meta charset="windows-1252"></head><body>'
            '<span class="price">1.299,99 €</span><p class="stock">Verfügbar</p>'
            + "<!-- padding -->" * 40 + "</body></html>").encode("cp1252")
    assert "Verfügbar" in decode_html(html)
    result = extract(html, "https://www.beispiel-shop.de/p/1")
    assert result.price == Decimal("1299.99") and result.availability == "in_stock"


def test_cli_prints_the_documented_json(capsys: pytest.CaptureFixture[str]) -> None:
    entry = next(e for e in MANIFEST if e["file"].endswith("jsonld-offer-de.html"))
    assert main(["--url", entry["url"], str(CORPUS / entry["file"])]) == 0
    out = capsys.readouterr().out
    assert out == ('{"price": "1299.99", "currency": "EUR", "availability": "in_stock", '
                   '"source": "json-ld"}\n')


def test_cli_prints_null_price_for_a_blocked_page(capsys: pytest.CaptureFixture[str]) -> None:
    entry = next(e for e in MANIFEST if e["source"] == "blocked")
    main(["--url", entry["url"], str(CORPUS / entry["file"])])
    assert json.loads(capsys.readouterr().out) == {
        "price": None, "currency": None, "availability": None, "source": "blocked"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--url", "ftp://x.de/", "f.html"], "--url must be an http(s) URL"),
     (["--url", "https://x.de/", "/nonexistent/page.html"], "cannot read")],
)
def test_cli_rejects_bad_input(argv: list[str], message: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_console_script_is_installed() -> None:
    script = VENV_BIN / "autobuy-extract"
    if not script.exists():
        pytest.skip("autobuy-extract not installed in this interpreter's environment")
    entry = next(e for e in MANIFEST if e["file"].endswith("amazon-de.html"))
    out = subprocess.run([str(script), "--url", entry["url"], str(CORPUS / entry["file"])],
                         check=True, capture_output=True, text=True).stdout
    assert json.loads(out) == {"price": "1299.99", "currency": "EUR",
                               "availability": "in_stock", "source": "adapter:amazon"}


# --------------------------------------------------------------------------- held-out cases
# Written after the corpus was green, against shapes the corpus does not contain.

BODY = "<p>Beschreibung des Artikels.</p>" * 40


def _page(head: str, body: str = "", lang: str = "de-DE") -> str:
    return f'<html lang="{lang}"><head>{head}</head><body>{body}{BODY}</body></html>'


def _ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def test_offer_referenced_by_id_in_the_graph() -> None:
    html = _page(_ld({"@context": "https://schema.org", "@graph": [
        {"@type": "Product", "@id": "#product", "name": "X", "offers": {"@id": "#offer"}},
        {"@type": "Offer", "@id": "#offer", "price": "49.99", "priceCurrency": "EUR",
         "availability": "https://schema.org/InStock", "itemOffered": {"@id": "#product"}}]}))
    assert extract(html, "https://www.shop.de/p").to_json() == {
        "price": "49.99", "currency": "EUR", "availability": "in_stock", "source": "json-ld"}


def test_schema_org_http_type_urls_and_numeric_price() -> None:
    html = _page(_ld({"@context": "http://schema.org", "@type": "http://schema.org/Product",
                      "offers": {"@type": "http://schema.org/Offer", "price": 1299,
                                 "priceCurrency": "GBP", "availability": "OutOfStock"}}),
                 lang="en-GB")
    result = extract(html, "https://www.shop.co.uk/p")
    assert (result.price, result.currency, result.availability) == (
        Decimal("1299"), "GBP", "out_of_stock")


def test_us_shop_open_graph_with_thousands_comma() -> None:
    html = _page('<meta property="og:price:amount" content="1,299.00">'
                 '<meta property="og:price:currency" content="USD">', lang="en-US")
    result = extract(html, "https://shop.example.com/products/x")
    assert (result.price, result.currency, result.source) == (Decimal("1299.00"), "USD",
                                                              "opengraph")


def test_generic_page_with_list_price_after_the_sale_price_and_a_unit_price() -> None:
    body = ('<div class="product-price"><span class="current-price">1.015,00 €</span>'
            '<span class="regular-price">1.199,00 €</span>'
            '<span class="unit-price">101,50 € / 1 l</span></div>')
    result = extract(_page("", body), "https://www.weinhandel-beispiel.de/p/1")
    assert (result.price, result.source) == (Decimal("1015.00"), "generic")


def test_page_without_any_price_is_none() -> None:
    result = extract(_page("", "<h1>Über uns</h1>"), "https://www.shop.de/about")
    assert result.to_json() == {"price": None, "currency": None, "availability": None,
                                "source": "none"}


# --------------------------------------------------------------------------- variants named by the URL
# The shapes of real shops: Shopify lists one Offer per variant with a ``?variant=<id>`` URL;
# ProductGroup pages (Zalando, corpus 04) name a variant by size in the query or its SKU
# in the path.

def _offer(price: str, stock: str = "InStock", **extra: str) -> dict:
    return {"@type": "Offer", "price": price, "priceCurrency": "EUR",
            "availability": f"https://schema.org/{stock}", **extra}


SHOPIFY = _page(_ld({"@context": "https://schema.org", "@type": "Product", "name": "Tee",
                     "offers": [_offer("19.00", sku="TEE-S",
                                       url="https://shop.example/products/tee?variant=111"),
                                _offer("24.00", "OutOfStock", sku="TEE-XL",
                                       url="https://shop.example/products/tee?variant=222")]}))
GROUP = _page(_ld({"@context": "https://schema.org", "@type": "ProductGroup", "name": "Sneaker",
                   "hasVariant": [
                       {"@type": "Product", "sku": "ZA-4", "offers": _offer("79.95")},
                       {"@type": "Product", "sku": "ZA-41", "offers": _offer("89.95")},
                       {"@type": "Product", "sku": "ZA-42", "offers": _offer("99.95", "OutOfStock")}]}))


@pytest.mark.parametrize(("html", "url", "price", "availability"), [
    (SHOPIFY, "https://shop.example/products/tee?variant=222", "24.00", "out_of_stock"),
    (SHOPIFY, "https://shop.example/products/tee?variant=111&utm_source=mail", "19.00", "in_stock"),
    (SHOPIFY, "https://shop.example/products/tee?sku=TEE-XL", "24.00", "out_of_stock"),
    (SHOPIFY, "https://shop.example/products/tee", "19.00", "in_stock"),
    (GROUP, "https://shop.example/sneaker/ZA-42", "99.95", "out_of_stock"),
    (GROUP, "https://shop.example/sneaker-za-42", "99.95", "out_of_stock"),
    (GROUP, "https://shop.example/sneaker?sku=ZA-41", "89.95", "in_stock"),  # not ZA-4
    (GROUP, "https://shop.example/sneaker", "79.95", "in_stock"),
])
def test_the_variant_a_url_names_is_the_price(html: str, url: str, price: str,
                                              availability: str) -> None:
    found = extract(html, url)
    assert (str(found.price), found.availability) == (price, availability)


@pytest.mark.parametrize(("html", "name"), [
    (_page(_ld({"@type": "Product", "name": "  Kopfhörer &amp; Etui ", "offers": _offer("1")})),
     "Kopfhörer & Etui"),
    (_page('<meta property="og:title" content="Laptop 15&quot;"><title>Shop</title>'), 'Laptop 15"'),
    (_page("<title>Über uns – Shop</title>"), "Über uns – Shop"),
    (_page(""), None),
    ((CORPUS / "50-blocked-cloudflare.html").read_text(encoding="utf-8"), None),
])
def test_product_name(html: str, name: str | None) -> None:
    assert product_name(html) == name
