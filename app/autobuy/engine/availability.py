"""Availability from schema.org values and from shop text in several languages."""

from __future__ import annotations

__all__ = ["IN_STOCK", "OUT_OF_STOCK", "PREORDER", "from_schema", "from_text"]

IN_STOCK = "in_stock"
OUT_OF_STOCK = "out_of_stock"
PREORDER = "preorder"

_SCHEMA = {
    "instock": IN_STOCK,
    "limitedavailability": IN_STOCK,
    "onlineonly": IN_STOCK,
    "instoreonly": OUT_OF_STOCK,
    "outofstock": OUT_OF_STOCK,
    "soldout": OUT_OF_STOCK,
    "discontinued": OUT_OF_STOCK,
    "preorder": PREORDER,
    "presale": PREORDER,
    "backorder": PREORDER,
}

# Checked in this order: negations before the positive phrases they contain.
_PHRASES: tuple[tuple[str, str], ...] = (
    ("pre-order", PREORDER), ("preorder", PREORDER), ("pre order", PREORDER),
    ("vorbestell", PREORDER), ("précommande", PREORDER), ("pré-commande", PREORDER),
    ("precommande", PREORDER), ("erscheint am", PREORDER), ("vooruitbestellen", PREORDER),
    ("reservar", PREORDER), ("prenota", PREORDER),
    ("nicht verfügbar", OUT_OF_STOCK), ("nicht lieferbar", OUT_OF_STOCK),
    ("nicht auf lager", OUT_OF_STOCK), ("ausverkauft", OUT_OF_STOCK),
    ("vergriffen", OUT_OF_STOCK), ("derzeit nicht", OUT_OF_STOCK),
    ("currently unavailable", OUT_OF_STOCK), ("out of stock", OUT_OF_STOCK),
    ("outofstock", OUT_OF_STOCK), ("sold out", OUT_OF_STOCK), ("unavailable", OUT_OF_STOCK),
    ("no longer available", OUT_OF_STOCK),
    ("indisponible", OUT_OF_STOCK), ("rupture de stock", OUT_OF_STOCK),
    ("épuisé", OUT_OF_STOCK), ("niet leverbaar", OUT_OF_STOCK), ("uitverkocht", OUT_OF_STOCK),
    ("niet op voorraad", OUT_OF_STOCK), ("non disponibile", OUT_OF_STOCK),
    ("agotado", OUT_OF_STOCK), ("momentan nicht", OUT_OF_STOCK),
    ("auf lager", IN_STOCK), ("sofort lieferbar", IN_STOCK), ("lieferbar", IN_STOCK),
    ("verfügbar", IN_STOCK), ("in stock", IN_STOCK), ("instock", IN_STOCK),
    ("available", IN_STOCK), ("en stock", IN_STOCK), ("disponible", IN_STOCK),
    ("op voorraad", IN_STOCK), ("morgen in huis", IN_STOCK), ("disponibile", IN_STOCK),
    ("an lager", IN_STOCK), ("in den warenkorb", IN_STOCK), ("add to basket", IN_STOCK),
    ("add to cart", IN_STOCK), ("ajouter au panier", IN_STOCK),
)


def from_schema(value: object) -> str | None:
    """Map a schema.org ItemAvailability (URL, prefixed or bare) to our three values."""
    if not isinstance(value, str) or not value.strip():
        return None
    key = value.strip().rsplit("/", 1)[-1].rsplit(":", 1)[-1].replace(" ", "").lower()
    return _SCHEMA.get(key) or from_text(value)


def from_text(text: str) -> str | None:
    """Map shop text ("Auf Lager.", "Actuellement indisponible.", "Vorbestellbar") to ours."""
    lowered = " ".join(text.lower().split())
    if not lowered:
        return None
    if lowered in ("oos", "out-of-stock"):
        return OUT_OF_STOCK
    for phrase, state in _PHRASES:
        if phrase in lowered:
            return state
    return None
