"""Blocked-page detection: bot walls are recognised, ordinary pages are not."""

from __future__ import annotations

import pytest

from autobuy.engine.blocked import block_reason

PAD = "<p>" + "Produktbeschreibung " * 60 + "</p>"


def _page(title: str, body: str) -> str:
    return f"<html><head><title>{title}</title></head><body>{body}{PAD}</body></html>"


@pytest.mark.parametrize("body", ["", "   ", "<html></html>", "<html><body>OK</body></html>"])
def test_empty_or_tiny_bodies_are_blocked(body: str) -> None:
    assert block_reason(body, 200) == "empty or tiny body"
    assert block_reason(body.encode()) == "empty or tiny body"


@pytest.mark.parametrize(
    ("title", "body"),
    [("Amazon.de", '<form action="/errors/validateCaptcha"></form>'),
     ("Just a moment...", "<script>window._cf_chl_opt={}</script>"),
     ("x", '<script src="https://ct.captcha-delivery.com/c.js"></script>'),
     ("x", '<div id="px-captcha"></div>'),
     ("x", '<iframe src="/_Incapsula_Resource?SWJIYLWA=1"></iframe>'),
     ("Robot Check", "<p>Sorry, we just need to make sure you're not a robot.</p>"),
     ("Attention Required! | Cloudflare", "<p>Sorry, you have been blocked</p>"),
     ("Pardon Our Interruption", "<p>As you were browsing something about your browser</p>")],
)
def test_vendor_bot_walls_are_blocked_whatever_the_status(title: str, body: str) -> None:
    assert block_reason(_page(title, body), 200) is not None


@pytest.mark.parametrize("status", [403, 429, 503])
def test_error_status_with_weak_marker_is_blocked(status: int) -> None:
    page = _page("Shop", "<p>We detected unusual traffic from your network.</p>")
    assert block_reason(page, status) is not None
    assert block_reason(page, 200) is None


def test_error_status_without_markers_is_not_called_blocked() -> None:
    assert block_reason(_page("Wartungsarbeiten", "<p>Bitte später erneut versuchen.</p>"), 503) is None


def test_product_page_with_recaptcha_and_cloudflare_script_is_not_blocked() -> None:
    page = _page(
        "Laptop 15 kaufen",
        '<script src="https://www.google.com/recaptcha/api.js"></script>'
        "<script>a.src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'</script>"
        '<span class="price">1.299,99 €</span>',
    )
    assert block_reason(page, 200) is None
