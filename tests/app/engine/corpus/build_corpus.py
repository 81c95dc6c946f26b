"""Regenerate the extraction corpus: ``.venv/bin/python tests/app/engine/corpus/build_corpus.py``.

Each page is modelled on the *structure* of a real shop's product page (where the
price, list price, unit price, variants and availability sit, which attributes and
class names carry them), wrapped in realistic bulk: a mega-menu, inline CSS and
script configuration, recommendation carousels with their own prices, and a footer.
No shop's text is copied; product names and numbers are invented.

Output: ``NN-<name>.html`` files and ``manifest.json`` (url, expected price as a
decimal string or null, currency, availability, source, and what the page tests).
The files are committed; this script documents and reproduces them (deterministic).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
NNBSP = "\u202f"
NBSP = "\u00a0"


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    lang: str
    body: str
    price: str | None
    currency: str | None
    availability: str | None
    source: str
    tests: str
    head: str = ""
    family: str = "generic"
    bulk: bool = True


def _fmt(amount: float, style: str) -> str:
    whole, cents = f"{amount:.2f}".split(".")
    groups = f"{int(whole):,}"
    if style == "de":
        return groups.replace(",", ".") + "," + cents + f"{NBSP}€"
    if style == "fr":
        return groups.replace(",", NNBSP) + "," + cents + f"{NBSP}€"
    if style == "ch":
        return "CHF " + groups.replace(",", "’") + "." + cents
    if style == "uk":
        return "£" + groups + "." + cents
    if style == "nl":
        return "€ " + groups.replace(",", ".") + "," + cents
    return "$" + groups + "." + cents


def _chrome_top(rng: random.Random, family: str) -> str:
    words = ["Elektronik", "Haushalt", "Garten", "Mode", "Sport", "Spielzeug", "Bücher",
             "Computer", "Foto", "Auto", "Baumarkt", "Drogerie", "Küche", "Wohnen", "Baby"]
    menu = []
    for top in words:
        links = "".join(
            f'<li class="nav-flyout__item"><a class="nav-link" href="/c/{top.lower()}/{i}'
            f'?ref=nav_{rng.randint(1000, 9999)}" data-track="menu">{top} {i}</a></li>'
            for i in range(rng.randint(14, 24))
        )
        menu.append(f'<li class="nav-item"><span class="nav-item__label">{top}</span>'
                    f'<ul class="nav-flyout">{links}</ul></li>')
    css = "".join(
        f".{family}-c{i}{{margin:{i % 7}px {i % 5}px;color:#{rng.randint(0, 0xFFFFFF):06x};"
        f"display:{'flex' if i % 2 else 'block'}}}"
        for i in range(rng.randint(250, 400))
    )
    config = json.dumps(
        {"experiments": {f"exp_{i}": rng.choice(["A", "B", "C"]) for i in range(120)},
         "tracking": {"pageType": "product", "ids": [rng.randint(10**8, 10**9) for _ in range(80)]}}
    )
    return (
        f"<style>{css}</style>"
        f"<script>window.__SHOP_CONFIG__ = {config};</script>"
        '<header class="site-header"><div class="promo-banner">Gratis Versand ab 29 € — '
        "30 Tage Rückgabe</div>"
        f'<nav class="nav-main" aria-label="Kategorien"><ul class="nav-list">{"".join(menu)}</ul></nav>'
        '<div class="mini-cart"><span class="mini-cart__count">0</span></div></header>'
    )


def _carousel(rng: random.Random, family: str, style: str) -> str:
    cards = []
    for i in range(rng.randint(16, 28)):
        amount = rng.uniform(5, 900)
        text = _fmt(amount, style)
        if family == "amazon":
            whole, _, frac = f"{amount:.2f}".partition(".")
            cards.append(
                f'<li class="a-carousel-card"><div class="p13n-sc-uncoverable-faceout">'
                f'<a class="a-link-normal" href="/dp/B0{rng.randint(10**7, 10**8 - 1)}">'
                f'<img alt="" src="/images/I/{rng.randint(10**6, 10**7)}.jpg" height="160">'
                f'<div class="p13n-sc-truncate">Zubehör Artikel {i}</div></a>'
                f'<span class="a-icon-alt">4,{rng.randint(0, 9)} von 5 Sternen</span>'
                f'<span class="a-price" data-a-size="m"><span class="a-offscreen">{text}</span>'
                f'<span aria-hidden="true"><span class="a-price-whole">{whole}</span>'
                f'<span class="a-price-fraction">{frac}</span></span></span></div></li>'
            )
        else:
            cards.append(
                f'<li class="product-tile" data-sku="{rng.randint(10**5, 10**6)}">'
                f'<a href="/p/{rng.randint(10**5, 10**6)}"><img loading="lazy" alt="" '
                f'src="/img/{i}.webp"><span class="product-tile__name">Empfehlung {i}</span></a>'
                f'<span class="product-tile__price">{text}</span>'
                f'<span class="rating" data-rating="{rng.randint(1, 5)}"></span></li>'
            )
    return (f'<section class="recommendations"><h2>Das könnte dir auch gefallen</h2>'
            f'<ul class="carousel">{"".join(cards)}</ul></section>')


def _footer(rng: random.Random) -> str:
    cols = "".join(
        f'<div class="footer-col"><h3>Service {c}</h3><ul>'
        + "".join(f'<li><a href="/service/{c}/{i}">Hilfe-Thema {c}.{i}</a></li>' for i in range(18))
        + "</ul></div>"
        for c in range(8)
    )
    tracking = "".join(
        f'<script>(function(){{var t="{rng.getrandbits(128):032x}";'
        f'window.dataLayer=window.dataLayer||[];window.dataLayer.push({{e:"v{i}",t:t}});}})();</script>'
        for i in range(30)
    )
    return f'<footer class="site-footer">{cols}<p class="legal">© Beispiel GmbH</p></footer>{tracking}'


def _render(page: Page, seed: int) -> str:
    rng = random.Random(seed)
    style = {"de": "de", "fr": "fr", "en-gb": "uk", "en-us": "us", "nl": "nl"}.get(
        page.lang.lower(), "ch" if page.lang.lower().endswith("ch") else "de")
    if not page.bulk:
        return page.body
    return (
        f'<!DOCTYPE html>\n<html lang="{page.lang}" class="no-js"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Produktseite – {page.name}</title>{page.head}"
        '<script async src="https://www.google.com/recaptcha/api.js?render=explicit"></script>'
        "</head><body>"
        + _chrome_top(rng, page.family)
        + f'<main id="main" class="pdp">{page.body}</main>'
        + _carousel(rng, page.family, style)
        + _footer(rng)
        + '<script>(function(){var a=document.createElement("script");'
        "a.src='/cdn-cgi/challenge-platform/scripts/jsd/main.js';document.head.appendChild(a);})();"
        "</script></body></html>\n"
    )


def _ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


def _amazon(price_block: str, availability: str, extra: str = "") -> str:
    return (
        '<div id="dp" class="electronics de_DE"><div id="ppd">'
        '<div id="centerCol"><div id="title_feature_div"><h1 id="title">'
        '<span id="productTitle">Beispiel Laptop 15 Zoll, 16 GB RAM</span></h1></div>'
        '<div id="averageCustomerReviews"><span class="a-icon-alt">4,5 von 5 Sternen</span></div>'
        f"{price_block}{extra}</div>"
        '<div id="rightCol"><div id="buybox"><div id="availability" class="a-section a-spacing-base">'
        f'<span class="a-size-medium a-color-success">{availability}</span></div>'
        '<input id="add-to-cart-button" type="submit" value="In den Einkaufswagen"></div></div>'
        "</div></div>"
    )


def _amazon_price(current: str, whole: str, frac: str, strike: str | None = None,
                  unit: str | None = None) -> str:
    strike_html = (
        f'<span class="a-price a-text-price" data-a-strike="true" data-a-size="s">'
        f'<span class="a-offscreen">{strike}</span><span aria-hidden="true">{strike}</span></span>'
        if strike else ""
    )
    unit_html = (
        f'<span class="a-size-mini aok-offscreen pricePerUnit">(<span class="a-price a-text-price" '
        f'data-a-size="mini"><span class="a-offscreen">{unit}</span></span>)</span>' if unit else ""
    )
    return (
        '<div id="corePriceDisplay_desktop_feature_div"><div class="a-section a-spacing-none">'
        '<span class="a-price aok-align-center reinventPricePriceToPayMargin priceToPay">'
        f'<span class="a-offscreen">{current}</span><span aria-hidden="true">'
        f'<span class="a-price-whole">{whole}<span class="a-price-decimal">,</span></span>'
        f'<span class="a-price-fraction">{frac}</span></span></span>'
        f'{unit_html}<div class="basisPrice">UVP: {strike_html}</div></div></div>'
    )


def pages() -> list[Page]:  # noqa: PLR0915 - one table of pages
    p: list[Page] = []
    add = p.append

    # ---------------------------------------------------------------- JSON-LD
    add(Page("jsonld-offer-de", "https://www.technikhaus-beispiel.de/p/laptop-15-123456", "de-DE",
             '<h1 class="pdp-title">Laptop 15</h1><div class="pdp-price"><span class="price">'
             f"1.299,99{NBSP}€</span></div>",
             "1299.99", "EUR", "in_stock", "json-ld",
             "JSON-LD Product/Offer with string price; page also carries reCAPTCHA and "
             "Cloudflare's injected script (not a bot wall)",
             head=_ld({"@context": "https://schema.org", "@type": "Product", "name": "Laptop 15",
                       "sku": "123456", "offers": {"@type": "Offer", "price": "1299.99",
                                                   "priceCurrency": "EUR",
                                                   "availability": "https://schema.org/InStock"}})))
    add(Page("jsonld-graph-fr", "https://www.maison-exemple.fr/produit/canape-849", "fr-FR",
             '<div class="fiche-produit"><span class="prix">849,00 €</span></div>',
             "849.00", "EUR", "in_stock", "json-ld", "@graph with WebPage, Breadcrumbs, Product; numeric price",
             head=_ld({"@context": "https://schema.org", "@graph": [
                 {"@type": "WebPage", "@id": "#webpage", "name": "Canapé"},
                 {"@type": "BreadcrumbList", "itemListElement": [
                     {"@type": "ListItem", "position": 1, "name": "Salon"}]},
                 {"@type": "Product", "name": "Canapé 3 places", "offers": {
                     "@type": "Offer", "price": 849.00, "priceCurrency": "EUR",
                     "availability": "http://schema.org/InStock"}}]})))
    add(Page("jsonld-aggregateoffer-ch", "https://www.galaxus.ch/de/s1/product/kamera-998877", "de",
             '<div class="productDetail"><h1>Kamera X</h1></div>',
             "1015.90", "CHF", "in_stock", "json-ld", "AggregateOffer: lowPrice is the price",
             head=_ld({"@context": "https://schema.org", "@type": "Product", "name": "Kamera X",
                       "offers": {"@type": "AggregateOffer", "lowPrice": "1015.90",
                                  "highPrice": "1249.00", "offerCount": 4, "priceCurrency": "CHF",
                                  "availability": "https://schema.org/InStock"}}),
             family="galaxus"))
    variants = [
        {"@type": "Product", "sku": "ZA-41", "name": "Sneaker 41", "url": "/sneaker-za?size=41",
         "offers": {"@type": "Offer", "price": "89.95", "priceCurrency": "EUR",
                    "availability": "https://schema.org/InStock"}},
        {"@type": "Product", "sku": "ZA-42", "name": "Sneaker 42", "url": "/sneaker-za?size=42",
         "offers": {"@type": "Offer", "price": "99.95", "priceCurrency": "EUR",
                    "availability": "https://schema.org/OutOfStock"}},
        {"@type": "Product", "sku": "ZA-43", "name": "Sneaker 43", "url": "/sneaker-za?size=43",
         "offers": {"@type": "Offer", "price": "94.95", "priceCurrency": "EUR",
                    "availability": "https://schema.org/InStock"}},
    ]
    group = {"@context": "https://schema.org", "@type": "ProductGroup", "name": "Sneaker",
             "productGroupID": "ZA", "variesBy": ["https://schema.org/size"], "hasVariant": variants}
    add(Page("jsonld-productgroup-variant-url", "https://www.zalando.de/sneaker-za?size=42", "de-DE",
             '<div data-testid="pdp-price-container"><p><span data-testid="pdp-price">89,95 €</span>'
             "</p></div>",
             "99.95", "EUR", "out_of_stock", "json-ld",
             "ProductGroup: the variant whose url is the page's url, not the cheapest",
             head=_ld(group), family="zalando"))
    add(Page("jsonld-productgroup-no-variant", "https://www.zalando.de/sneaker-za", "de-DE",
             '<div data-testid="pdp-price-container"><p><span data-testid="pdp-price">ab 89,95 €'
             "</span></p></div>",
             "89.95", "EUR", "in_stock", "json-ld",
             "ProductGroup without a selected variant: lowest buyable variant",
             head=_ld(group), family="zalando"))
    add(Page("jsonld-pricespec-sale-vs-list", "https://www.sportgeraete-beispiel.de/laufband-x1",
             "de-DE", '<div class="price-box"><del class="price--old">1.499,00 €</del>'
             '<span class="price--sale">1.199,00 €</span></div>',
             "1199.00", "EUR", "in_stock", "json-ld",
             "priceSpecification with ListPrice (UVP) and SalePrice; list order puts UVP first",
             head=_ld({"@context": "https://schema.org", "@type": "Product", "name": "Laufband",
                       "offers": {"@type": "Offer", "availability": "https://schema.org/InStock",
                                  "priceSpecification": [
                                      {"@type": "UnitPriceSpecification",
                                       "priceType": "https://schema.org/ListPrice",
                                       "price": 1499.00, "priceCurrency": "EUR"},
                                      {"@type": "UnitPriceSpecification",
                                       "priceType": "https://schema.org/SalePrice",
                                       "price": 1199.00, "priceCurrency": "EUR"}]}})))
    add(Page("jsonld-pricespec-unit-price", "https://www.feinkost-beispiel.de/kaffee-1kg", "de-DE",
             '<div class="price">18,99 €</div><div class="base-price">(18,99 € / 1 kg)</div>',
             "18.99", "EUR", "in_stock", "json-ld",
             "per-unit UnitPriceSpecification (referenceQuantity) is skipped",
             head=_ld({"@context": "https://schema.org", "@type": "Product", "name": "Kaffee",
                       "offers": {"@type": "Offer", "availability": "https://schema.org/InStock",
                                  "priceSpecification": [
                                      {"@type": "UnitPriceSpecification", "price": "1.90",
                                       "priceCurrency": "EUR",
                                       "referenceQuantity": {"@type": "QuantitativeValue",
                                                             "value": 100, "unitCode": "GRM"}},
                                      {"@type": "UnitPriceSpecification", "price": "18.99",
                                       "priceCurrency": "EUR"}]}})))
    add(Page("jsonld-offers-new-and-used", "https://www.buecher-beispiel.de/buch/978-3-16", "de-DE",
             '<div class="offers"><span class="price">24,00 €</span></div>',
             "24.00", "EUR", "in_stock", "json-ld",
             "several offers: a cheaper used one and an out-of-stock one are not the price",
             head=_ld({"@context": "https://schema.org", "@type": ["Product", "Book"],
                       "name": "Ein Buch", "offers": [
                           {"@type": "Offer", "price": "9.50", "priceCurrency": "EUR",
                            "itemCondition": "https://schema.org/UsedCondition",
                            "availability": "https://schema.org/InStock"},
                           {"@type": "Offer", "price": "19.99", "priceCurrency": "EUR",
                            "itemCondition": "https://schema.org/NewCondition",
                            "availability": "https://schema.org/OutOfStock"},
                           {"@type": "Offer", "price": "24.00", "priceCurrency": "EUR",
                            "itemCondition": "https://schema.org/NewCondition",
                            "availability": "https://schema.org/InStock"}]})))
    add(Page("jsonld-out-of-stock", "https://www.otto.de/p/kuehlschrank-S0ABC123/", "de-DE",
             '<div data-qa="price"><span class="pdp_price__retail-price js_pdp_price__retail-price">'
             "649,00 €</span></div>",
             "649.00", "EUR", "out_of_stock", "json-ld", "Offer with schema.org OutOfStock",
             head=_ld({"@context": "http://schema.org", "@type": "Product", "name": "Kühlschrank",
                       "offers": {"@type": "Offer", "price": "649.00", "priceCurrency": "EUR",
                                  "availability": "http://schema.org/OutOfStock"}}),
             family="otto"))
    add(Page("jsonld-preorder", "https://www.mediamarkt.de/de/product/_konsole-2999888.html", "de-DE",
             '<div data-test="mms-product-price"><span data-test="branded-price-whole-value">549'
             '</span><span data-test="branded-price-decimal-value">99</span></div>',
             "549.99", "EUR", "preorder", "json-ld", "PreOrder availability",
             head=_ld({"@context": "https://schema.org/", "@type": "Product", "name": "Konsole",
                       "offers": {"@type": "Offer", "price": 549.99, "priceCurrency": "EUR",
                                  "availability": "https://schema.org/PreOrder"}}),
             family="mediamarkt"))
    add(Page("jsonld-localised-price-string", "https://www.moebel-beispiel.de/sofa-1299", "de-DE",
             '<span class="price">1.299,99 €</span>', "1299.99", "EUR", "in_stock", "json-ld",
             'a shop that writes "1.299,99" into JSON-LD',
             head=_ld({"@context": "https://schema.org", "@type": "Product", "name": "Sofa",
                       "offers": {"@type": "Offer", "price": "1.299,99", "priceCurrency": "EUR",
                                  "availability": "InStock"}})))
    add(Page("jsonld-sloppy-json", "https://www.gartencenter-beispiel.at/rasenmaeher", "de-AT",
             '<span class="price">379,00 €</span>', "379.00", "EUR", "in_stock", "json-ld",
             "JSON-LD wrapped in an HTML comment with trailing commas and a raw newline",
             head='<script type="application/ld+json"><!--\n{"@context": "https://schema.org", '
                  '"@type": "Product", "name": "Rasenmäher\nBenzin", "offers": {"@type": "Offer", '
                  '"price": "379.00", "priceCurrency": "EUR", '
                  '"availability": "https://schema.org/InStock",},}\n--></script>'))
    add(Page("jsonld-itemlist-before-product", "https://www.fahrrad-beispiel.de/e-bike-city", "de-DE",
             '<span class="price">2.499,00 €</span>', "2499.00", "EUR", "in_stock", "json-ld",
             "an ItemList of related products (cheaper) precedes the Product",
             head=_ld({"@context": "https://schema.org", "@type": "Organization", "name": "Rad"})
             + _ld({"@context": "https://schema.org", "@type": "ItemList", "itemListElement": [
                 {"@type": "ListItem", "position": i, "item": {
                     "@type": "Product", "name": f"Zubehör {i}", "offers": {
                         "@type": "Offer", "price": f"{19 + i}.99", "priceCurrency": "EUR"}}}
                 for i in range(1, 6)]})
             + _ld({"@context": "https://schema.org", "@type": "Product", "name": "E-Bike City",
                    "offers": {"@type": "Offer", "price": "2499.00", "priceCurrency": "EUR",
                               "availability": "https://schema.org/InStock"}})))
    add(Page("jsonld-mainentity", "https://www.example-electricals.co.uk/tv-55-oled", "en-GB",
             '<p class="price">£1,299.00</p>', "1299.00", "GBP", "in_stock", "json-ld",
             "ItemPage.mainEntity holds the Product; GBP",
             head=_ld({"@context": "https://schema.org", "@type": "ItemPage", "mainEntity": {
                 "@type": "Product", "name": "TV 55 OLED", "offers": {
                     "@type": "Offer", "price": "1299.00", "priceCurrency": "GBP",
                     "availability": "https://schema.org/InStock"}}})))
    add(Page("jsonld-limited-availability", "https://www.digitec.ch/de/s1/product/monitor-27-5566",
             "de-CH", '<div data-test="product-price"><strong>CHF 449.–</strong></div>',
             "449", "CHF", "in_stock", "json-ld", "LimitedAvailability counts as in stock; integer price",
             head=_ld({"@context": "https://schema.org", "@type": "Product", "name": "Monitor 27",
                       "offers": {"@type": "Offer", "price": 449, "priceCurrency": "CHF",
                                  "availability": "https://schema.org/LimitedAvailability"}}),
             family="galaxus"))
    add(Page("jsonld-no-offer-then-opengraph", "https://www.kueche-beispiel.de/pfanne-28", "de-DE",
             '<div class="product-detail"><h1>Pfanne 28 cm</h1></div>',
             "39.95", "EUR", "in_stock", "opengraph",
             "JSON-LD Product without offers; product:price meta tags answer",
             head=_ld({"@context": "https://schema.org", "@type": "Product", "name": "Pfanne"})
             + '<meta property="og:type" content="product">'
               '<meta property="product:price:amount" content="39.95">'
               '<meta property="product:price:currency" content="EUR">'
               '<meta property="product:availability" content="in stock">'))
    add(Page("jsonld-price-zero-no-price", "https://www.hifi-beispiel.de/verstaerker-auf-anfrage",
             "de-DE", '<div class="product-price-box"><span class="price-on-request">Preis auf Anfrage'
             "</span></div>", None, None, "out_of_stock", "none",
             "price 0 (on request) is no price; nothing else on the page is a price",
             head=_ld({"@context": "https://schema.org", "@type": "Product", "name": "Verstärker",
                       "offers": {"@type": "Offer", "price": "0", "priceCurrency": "EUR",
                                  "availability": "https://schema.org/OutOfStock"}})))

    # ---------------------------------------------------------------- microdata
    add(Page("microdata-meta-content", "https://www.werkzeug-beispiel.de/akkuschrauber-18v", "de-DE",
             '<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Akkuschrauber'
             '</h1><div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
             '<meta itemprop="priceCurrency" content="EUR"><meta itemprop="price" content="249.00">'
             '<span class="price">249,00 €</span>'
             '<link itemprop="availability" href="https://schema.org/InStock"></div></div>',
             "249.00", "EUR", "in_stock", "microdata", "microdata Offer with meta content"))
    add(Page("microdata-text-price", "https://www.spielwaren-beispiel.de/bausteine-set", "de-DE",
             '<div itemscope itemtype="http://schema.org/Product"><span itemprop="name">Set</span>'
             '<div class="offer" itemprop="offers" itemscope itemtype="http://schema.org/Offer">'
             f'<span class="price" itemprop="price">1.015,00{NBSP}€</span>'
             '<meta itemprop="priceCurrency" content="EUR">'
             '<span itemprop="availability" content="https://schema.org/InStock">Auf Lager</span>'
             "</div></div>",
             "1015.00", "EUR", "in_stock", "microdata", "microdata price as visible German text"))
    add(Page("microdata-strike-outside-offer", "https://www.uhren-beispiel.fr/montre-automatique",
             "fr-FR",
             '<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Montre</h1>'
             '<s class="prix-barre">399,00 €</s>'
             '<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
             '<span itemprop="price" content="299.00">299,00 €</span>'
             '<meta itemprop="priceCurrency" content="EUR">'
             '<link itemprop="availability" href="https://schema.org/OutOfStock">'
             '<span class="stock">Rupture de stock</span></div></div>',
             "299.00", "EUR", "out_of_stock", "microdata", "crossed-out price outside the Offer"))
    add(Page("microdata-aggregate-offer", "https://www.ebay.de/p/12345678", "de-DE",
             '<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Objektiv</h1>'
             '<div itemprop="offers" itemscope itemtype="https://schema.org/AggregateOffer">'
             '<span itemprop="lowPrice" content="412.50">ab EUR 412,50</span>'
             '<span itemprop="highPrice" content="569.00">bis EUR 569,00</span>'
             '<meta itemprop="priceCurrency" content="EUR"></div></div>',
             "412.50", "EUR", None, "microdata", "microdata AggregateOffer lowPrice; eBay catalog page",
             family="ebay"))

    # ---------------------------------------------------------------- OpenGraph
    add(Page("opengraph-price", "https://www.deko-beispiel.nl/vaas-groot", "nl-NL",
             '<div class="product"><h1>Vaas</h1></div>', "34.95", "EUR", "in_stock", "opengraph",
             "product:price:amount with availability instock",
             head='<meta property="og:type" content="product">'
                  '<meta property="product:price:amount" content="34.95">'
                  '<meta property="product:price:currency" content="EUR">'
                  '<meta property="product:availability" content="instock">'))
    add(Page("opengraph-sale-price", "https://www.mode-beispiel.de/jacke-winter", "de-DE",
             '<div class="product"><h1>Winterjacke</h1></div>', "129.00", "EUR", "out_of_stock",
             "opengraph", "product:sale_price beats product:price (the list price)",
             head='<meta property="product:price:amount" content="189.00">'
                  '<meta property="product:price:currency" content="EUR">'
                  '<meta property="product:sale_price:amount" content="129.00">'
                  '<meta property="product:sale_price:currency" content="EUR">'
                  '<meta property="product:availability" content="out of stock">'))
    add(Page("opengraph-localised", "https://www.tierbedarf-beispiel.de/kratzbaum", "de-DE",
             '<div class="product"><h1>Kratzbaum</h1></div>', "1015", "EUR", None, "opengraph",
             'og:price:amount localised by the shop as "1.015,00"',
             head='<meta property="og:price:amount" content="1.015,00">'
                  '<meta property="og:price:currency" content="EUR">'))

    # ---------------------------------------------------------------- Amazon
    add(Page("amazon-de", "https://www.amazon.de/dp/B0C1111111", "de-de",
             _amazon(_amazon_price(f"1.299,99{NBSP}€", "1.299", "99", f"1.499,00{NBSP}€"),
                     "Auf Lager."),
             "1299.99", "EUR", "in_stock", "adapter:amazon", "Amazon.de price to pay vs UVP strike",
             family="amazon"))
    add(Page("amazon-com", "https://www.amazon.com/dp/B0C2222222", "en-us",
             _amazon(_amazon_price("$1,299.99", "1,299", "99", "$1,499.99"), "In Stock"),
             "1299.99", "USD", "in_stock", "adapter:amazon", "Amazon.com USD", family="amazon"))
    add(Page("amazon-co-uk-unit-price", "https://www.amazon.co.uk/dp/B0C3333333", "en-gb",
             _amazon(_amazon_price("£24.99", "24", "99", unit="£2.50 / 100 ml"),
                     "Only 3 left in stock."),
             "24.99", "GBP", "in_stock", "adapter:amazon", "Amazon.co.uk with a per-unit price",
             family="amazon"))
    add(Page("amazon-fr-preorder", "https://www.amazon.fr/dp/B0C4444444", "fr-fr",
             _amazon(_amazon_price(f"1{NNBSP}299,99{NBSP}€", f"1{NNBSP}299", "99"),
                     "Précommande : cet article paraîtra le 14 mars."),
             "1299.99", "EUR", "preorder", "adapter:amazon",
             "Amazon.fr narrow no-break space grouping; pre-order", family="amazon"))
    add(Page("amazon-de-unavailable", "https://www.amazon.de/dp/B0C5555555", "de-de",
             _amazon("", "Derzeit nicht verfügbar. Ob und wann dieser Artikel wieder vorrätig "
                         "sein wird, ist unbekannt."),
             None, None, "out_of_stock", "none",
             "Amazon with no buy box price: the carousel's prices must not be taken",
             family="amazon"))
    add(Page("amazon-de-split-price", "https://www.amazon.de/-/en/dp/B0C6666666", "de-de",
             _amazon('<div id="apex_desktop"><span class="a-price priceToPay">'
                     '<span class="a-price-whole">1.015<span class="a-price-decimal">,</span></span>'
                     '<span class="a-price-fraction">00</span></span></div>', "Auf Lager"),
             "1015.00", "EUR", "in_stock", "adapter:amazon",
             "Amazon whole/fraction spans without a-offscreen text (1.015 = one thousand fifteen)",
             family="amazon"))

    # ---------------------------------------------------------------- eBay
    def ebay(price: str, qty: str) -> str:
        return (
            '<div class="x-item-title"><h1 class="x-item-title__mainTitle">'
            '<span class="ux-textspans ux-textspans--BOLD">Grafikkarte</span></h1></div>'
            '<div class="x-price-section"><div class="x-price-primary" data-testid="x-price-primary">'
            f'<span class="ux-textspans">{price}</span></div>'
            '<div class="x-additional-info"><span class="ux-textspans ux-textspans--SECONDARY">'
            "Versand: EUR 6,99</span></div></div>"
            f'<div class="x-quantity__availability"><span class="ux-textspans">{qty}</span></div>'
        )

    add(Page("ebay-de", "https://www.ebay.de/itm/2851234567", "de-DE",
             ebay("EUR 1.299,99", "Mehr als 10 verfügbar"), "1299.99", "EUR", "in_stock",
             "adapter:ebay", "eBay.de 'EUR 1.299,99'", family="ebay"))
    add(Page("ebay-com", "https://www.ebay.com/itm/3851234567", "en-US",
             ebay("US $1,299.99/ea", "Out of Stock"), "1299.99", "USD", "out_of_stock",
             "adapter:ebay", "eBay.com 'US $1,299.99/ea'", family="ebay"))
    add(Page("ebay-co-uk", "https://www.ebay.co.uk/itm/4851234567", "en-GB",
             ebay("£12.50", "3 available"), "12.50", "GBP", "in_stock", "adapter:ebay",
             "eBay.co.uk GBP", family="ebay"))

    # ---------------------------------------------------------------- other European shops
    add(Page("otto-de", "https://www.otto.de/p/waschmaschine-S0XYZ987/", "de-DE",
             '<div class="pdp_price"><div data-qa="price">'
             '<span class="pdp_price__inner"><span class="pdp_price__retail-price '
             'js_pdp_price__retail-price">1.015 €</span></span>'
             '<span class="pdp_price__discount-price-strike">UVP 1.199 €</span></div></div>'
             '<div class="pdp_availability"><span class="pl_text">lieferbar – in 2-3 Werktagen bei dir'
             "</span></div>",
             "1015", "EUR", "in_stock", "adapter:otto", '"1.015 €" is one thousand fifteen',
             family="otto"))
    add(Page("mediamarkt-de", "https://www.mediamarkt.de/de/product/_fernseher-2911111.html", "de-DE",
             '<div data-test="mms-product-price"><div class="strike-through-price">'
             '<span>UVP</span><span class="sc-strike">1.499,–</span></div>'
             '<span data-test="branded-price-whole-value">1.299</span>'
             '<span data-test="branded-price-decimal-value">–</span></div>'
             '<div data-test="mms-delivery-online-availability"><span>Online verfügbar – Lieferung '
             "in 1-2 Werktagen</span></div>",
             "1299", "EUR", "in_stock", "adapter:mediamarkt", 'split "1.299" + "–" with UVP strike',
             family="mediamarkt"))
    add(Page("mediamarkt-de-unavailable", "https://www.mediamarkt.de/de/product/_kopfhoerer-2922222.html",
             "de-DE",
             '<div data-test="mms-product-price"><span data-test="branded-price-whole-value">49'
             '</span><span data-test="branded-price-decimal-value">99</span></div>'
             '<div data-test="mms-delivery-online-availability"><span>Dieser Artikel ist aktuell '
             "nicht verfügbar</span></div>",
             "49.99", "EUR", "out_of_stock", "adapter:mediamarkt", "split price; not available",
             family="mediamarkt"))
    add(Page("zalando-sale", "https://www.zalando.de/jeans-slim-ZA99.html", "de-DE",
             '<div data-testid="pdp-price-container"><p><span class="strike" data-testid='
             f'"pdp-price-original">149,95{NBSP}€</span><span data-testid="pdp-price-sale">'
             f"99,95{NBSP}€</span><span>inkl. MwSt.</span></p></div>"
             '<button data-testid="pdp-add-to-cart">In den Warenkorb</button>',
             "99.95", "EUR", "in_stock", "adapter:zalando", "sale price beside the original",
             family="zalando"))
    add(Page("bol-com", "https://www.bol.com/nl/nl/p/koffiemachine/9300000123456/", "nl-NL",
             '<div class="buy-block"><span class="promo-price" data-test="price">1299'
             '<sup class="promo-price__fraction" data-test="price-fraction">99</sup></span>'
             '<del class="buy-block__list-price">1.499,00</del>'
             '<div class="buy-block__highlight" data-test="delivery-highlight">Op voorraad. '
             "Voor 23:59 besteld, morgen in huis</div></div>",
             "1299.99", "EUR", "in_stock", "adapter:bol", "bol.com whole + superscript fraction",
             family="bol"))
    add(Page("bol-com-dash", "https://www.bol.com/nl/nl/p/boek/9200000654321/", "nl-NL",
             '<div class="buy-block"><span class="promo-price" data-test="price">24'
             '<sup class="promo-price__fraction" data-test="price-fraction">-</sup></span>'
             '<div class="buy-block__highlight" data-test="delivery-highlight">Niet leverbaar</div>'
             "</div>",
             "24", "EUR", "out_of_stock", "adapter:bol", 'bol.com "24,-"; not deliverable',
             family="bol"))
    add(Page("galaxus-ch", "https://www.galaxus.ch/de/s1/product/notebook-1234567", "de",
             '<div data-test="product-price"><span class="insteadOf">statt CHF 1’499.–</span>'
             '<strong data-test="current-price">CHF 1’299.–</strong></div>'
             '<div data-test="availability">Mehr als 10 Stück an Lager</div>',
             "1299", "CHF", "in_stock", "adapter:galaxus", "Swiss apostrophe grouping and .–",
             family="galaxus"))
    add(Page("digitec-ch", "https://www.digitec.ch/fr/s1/product/smartphone-7654321", "fr-CH",
             '<div data-test="product-price"><strong data-test="current-price">1\'015.90</strong>'
             '<span class="currency">CHF</span></div><div data-test="availability">'
             "Plus de 10 pièces en stock</div>",
             "1015.90", "CHF", "in_stock", "adapter:galaxus",
             "fr-CH: dot decimal despite French; ASCII apostrophe", family="galaxus"))
    add(Page("fnac-com", "https://www.fnac.com/a1234567/Ordinateur-portable", "fr-FR",
             '<div class="f-faPriceBox"><span class="f-faPriceBox__price f-faPriceBox__price--old">'
             f"1{NNBSP}499,99{NBSP}€</span><span class=\"f-faPriceBox__price userPrice checked\">"
             f"1{NNBSP}299,99{NBSP}€</span></div>"
             '<div class="f-buyBox-availabilityStatus f-buyBox-availabilityStatus-available">'
             "En stock en ligne</div>",
             "1299.99", "EUR", "in_stock", "adapter:fnac", "Fnac old price before the user price",
             family="fnac"))
    add(Page("cdiscount", "https://www.cdiscount.com/informatique/f-107-abc.html", "fr-FR",
             '<div class="fpPriceBloc"><span class="fpStriker">1 599,00 €</span>'
             '<span class="fpPrice price jsMainPrice" itemprop="offers">1299€99</span></div>'
             '<div class="fpStock">En stock</div>',
             "1299.99", "EUR", "in_stock", "adapter:cdiscount", 'Cdiscount "1299€99"',
             family="cdiscount"))

    # ---------------------------------------------------------------- generic
    add(Page("generic-sale-unit-uvp", "https://www.drogerie-beispiel.de/shampoo-250ml", "de-DE",
             '<div class="product-info"><h1>Shampoo 250 ml</h1><div class="price-wrapper">'
             '<del class="price price--old">7,95 €</del><span class="price price--sale">5,95 €'
             '</span><span class="price-unit">(2,38 € / 100 ml)</span></div>'
             '<p class="delivery-availability">Sofort lieferbar</p></div>',
             "5.95", "EUR", "in_stock", "generic", "generic: struck old price and unit price skipped"))
    add(Page("generic-eur-dash", "https://www.buero-beispiel.de/ordner-a4", "de-DE",
             '<div class="product-box"><span class="uvp-price">UVP 19,90 €</span>'
             '<span class="product-price">EUR 12,-</span>'
             '<div class="stock-info">Nicht auf Lager</div></div>',
             "12", "EUR", "out_of_stock", "generic", 'generic "EUR 12,-" after a UVP'))
    add(Page("generic-swiss", "https://www.velo-beispiel.ch/rennrad-carbon", "de-CH",
             '<div class="product-detail"><div class="product-price">Fr. 3’490.90</div>'
             '<div class="availability">An Lager</div></div>',
             "3490.90", "CHF", "in_stock", "generic", "generic Swiss 'Fr.' price"))
    add(Page("generic-uk-was", "https://www.homeware-example.co.uk/kettle-17", "en-GB",
             '<div class="product-details"><span class="was-price">Was £49.99</span>'
             '<span class="now-price">£1,015.00</span><p class="stock-status">Sold out</p></div>',
             "1015.00", "GBP", "out_of_stock", "generic", "generic UK now/was"))
    add(Page("generic-fr-nnbsp", "https://www.electromenager-exemple.fr/lave-linge", "fr-FR",
             '<div class="fiche"><p class="product-price">'
             f'<span class="amount">1{NNBSP}015,00{NBSP}€</span></p>'
             '<p class="availability">Rupture de stock</p></div>',
             "1015.00", "EUR", "out_of_stock", "generic", "generic French narrow no-break space"))

    # ---------------------------------------------------------------- blocked
    add(Page("blocked-amazon-captcha", "https://www.amazon.de/dp/B0C1111111", "de-de",
             '<!doctype html><html lang="de"><head><title dir="ltr">Amazon.de</title></head><body>'
             '<div class="a-container"><h4>Geben Sie die unten angezeigten Zeichen ein</h4>'
             '<form method="get" action="/errors/validateCaptcha" name="">'
             '<input type="hidden" name="amzn" value="x1"><img src="https://images-na.ssl-images-'
             'amazon.com/captcha/abc/Captcha_xyz.jpg"><input id="captchacharacters" '
             'name="field-keywords"><button type="submit">Weiter shoppen</button></form>'
             "<p>Nur 1.299,99 € hier? Nein — dies ist eine Sicherheitsseite.</p></div>"
             + "<!-- " + "x" * 600 + " --></body></html>",
             None, None, None, "blocked", "Amazon captcha form", bulk=False))
    add(Page("blocked-cloudflare", "https://www.shop-beispiel.de/p/1", "en",
             '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
             '<meta http-equiv="refresh" content="390"></head><body><div class="main-wrapper">'
             '<h1 class="zone-name-title h1">www.shop-beispiel.de</h1><h2>Checking if the site '
             "connection is secure</h2></div><script>(function(){window._cf_chl_opt={cvId: '3',"
             "cZone: 'www.shop-beispiel.de', cType: 'managed'};}());</script>"
             + "<!-- " + "y" * 600 + " --></body></html>",
             None, None, None, "blocked", "Cloudflare managed challenge", bulk=False))
    add(Page("blocked-datadome", "https://www.mode-beispiel.fr/robe", "fr",
             '<html><head><title>mode-beispiel.fr</title></head><body style="margin:0">'
             '<p id="cmsg">Please enable JS and disable any ad blocker</p>'
             "<script>var dd={'rt':'c','cid':'AHrlqAAA','hsh':'2211F5','t':'fe','host':"
             "'geo.captcha-delivery.com'}</script><script src=\"https://ct.captcha-delivery.com/c.js\">"
             "</script>" + "<!-- " + "z" * 600 + " --></body></html>",
             None, None, None, "blocked", "DataDome captcha", bulk=False))
    add(Page("blocked-akamai", "https://www.elektro-beispiel.de/tv", "en",
             "<HTML><HEAD>\n<TITLE>Access Denied</TITLE>\n</HEAD><BODY>\n<H1>Access Denied</H1>\n"
             "You don't have permission to access \"http&#58;&#47;&#47;www&#46;elektro-beispiel&#46;"
             "de&#47;tv\" on this server.<P>\nReference&#32;&#35;18&#46;6f3c2f17&#46;1732550000"
             "&#46;1a2b3c4d\n<P>https&#58;&#47;&#47;errors&#46;edgesuite&#46;net&#47;18&#46;6f3c2f17"
             "</BODY>\n</HTML>\n" + " " * 10 + "<!-- " + "w" * 300 + " -->",
             None, None, None, "blocked", "Akamai access denied", bulk=False))
    add(Page("blocked-perimeterx", "https://www.sport-beispiel.de/schuh", "de",
             '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Zugriff auf diese '
             "Seite wurde verweigert</title></head><body><div class=\"px-captcha-container\">"
             '<div id="px-captcha"></div></div><script>window._pxAppId="PX1a2b3c";</script>'
             "<!-- " + "v" * 600 + " --></body></html>",
             None, None, None, "blocked", "PerimeterX press-and-hold", bulk=False))
    add(Page("blocked-empty", "https://www.leer-beispiel.de/p/1", "de",
             "<html><head></head><body></body></html>\n",
             None, None, None, "blocked", "empty 200 body", bulk=False))
    return p


def main() -> None:
    manifest = []
    corpus = pages()
    for index, page in enumerate(corpus, start=1):
        filename = f"{index:02d}-{page.name}.html"
        (HERE / filename).write_text(_render(page, index), encoding="utf-8")
        manifest.append({"file": filename, "url": page.url, "price": page.price,
                         "currency": page.currency, "availability": page.availability,
                         "source": page.source, "tests": page.tests})
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
    print(f"wrote {len(corpus)} pages to {HERE}")


if __name__ == "__main__":
    main()
