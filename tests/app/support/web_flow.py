"""A person's way through the web app in headless Chromium, shared by the browser tests.

tests/app/test_web_e2e.py runs it against the API in this process behind a stand-in for
CloudFront; the twin's e2e runs it against the distribution `make local` serves. What
differs between the two is given as a :class:`Site`: where the app is, how the worker
gets to check an item, how the demo shop's price changes, what SES kept and whether the
Stripe stand-in has delivered its events.

The flow: sign in (development sign-in), preview a demo-shop product, track it with a
target under its price, see the worker's price in the list, lower the shop's price under
the target and see the alert on the item's chart, in the alerts and in the e-mail, the
list and the item on a 375 px phone, upgrade through the Stripe stand-in's checkout and
come back as pro, then to ultra (auto-buy is its), turn auto-buy on on the item's page, let
the price go back above the target and under it again, see that crossing's alert and the
pending order in the Orders page, confirm it inside its window and see what the API made
of it (confirmed by the person, then placed or failed with the purchase webhook's answer:
neither run configures one, so "failed" with that reason), stop tracking and sign out.
The worker reads a user's tier at most a minute old, so the order's crossing is checked
once ``Site.tier_seen_within`` has passed since the upgrade. Screenshots (desktop and
phone) to ``shots``.
"""
from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autobuy.engine.dynamo_store import _TIER_CACHE_SECONDS

CHROMIUM_ARGS = ["--no-sandbox"]


@dataclass(frozen=True)
class Site:
    url: str  # the app's origin, e.g. http://localhost:PORT or the twin's web_url
    email: str  # who signs in (development sign-in) and gets the alert e-mail
    sender: str  # the address alerts come from (the SES identity's)
    product_url: str  # a demo shop product whose price is 103.00 EUR ("Demo-Produkt 3")
    check: Callable[[str, str], None]  # (item id, user id or "") -> the worker has checked it
    set_price: Callable[[str], None]  # the demo shop's new price of the product
    mails: Callable[[], list[dict[str, Any]]]  # what SES accepted (/localcloud/ses/messages)
    stripe_delivered: Callable[[], bool]  # the stand-in owes no webhook delivery
    user_id: Callable[[], str] = lambda: ""  # the signed-in user's id where check needs it
    # how long the worker may go on seeing the tier it read before an upgrade (it caches a
    # user's tier, autobuy.engine.dynamo_store): the order needs it to see ultra
    tier_seen_within: float = _TIER_CACHE_SECONDS + 1


def stripe_delivered(events_url: str, key: str) -> Callable[[], bool]:
    """Whether the Stripe stand-in (its ``/stripe/v1/events``) has sent a subscription and
    owes no webhook delivery any more."""
    def delivered() -> bool:
        request = urllib.request.Request(events_url, headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            events = json.load(answer)["data"]
        return any(e["type"] == "customer.subscription.created" for e in events) and all(
            e["pending_webhooks"] == 0 for e in events)
    return delivered


def until(what: str, predicate: Callable[[], Any], timeout: float = 30, every: float = 0.1) -> Any:
    """``predicate()``'s first true value, asked every ``every`` s for ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        time.sleep(every)
    return value


def run(page: Any, expect: Any, site: Site, shots: Path, *, delivery_timeout: float = 30) -> None:
    """Drive ``page`` (a Playwright page of a 1280x900 en-US context) through the flow."""
    url = site.url
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # sign in (development sign-in, offered because the API routes it)
    page.goto(url + "/")
    expect(page.get_by_role("heading", name="Sign in to AutoBuy Guard")).to_be_visible()
    page.screenshot(path=shots / "sign-in-desktop.png")
    page.get_by_label("E-mail address").fill(site.email)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Tracked items")).to_be_visible()

    # preview what a check sees, then track it with a target under today's price
    page.get_by_label("Product page address").fill(site.product_url)
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("heading", name="What a check sees now").locator("..")
    expect(preview).to_contain_text("Demo-Produkt 3")
    expect(preview).to_contain_text("€103.00")
    page.screenshot(path=shots / "preview-desktop.png", full_page=True)
    page.get_by_label("Alert me at or below").fill("95")
    page.get_by_role("button", name="Track").click()
    card = page.locator("article.item-card").filter(has_text="Demo-Produkt 3")
    expect(card).to_be_visible()

    # the worker checks it: the list shows the price it saw
    item_href = card.get_by_role("link").get_attribute("href")
    item_id = item_href.rsplit("/", 1)[-1]
    user_id = site.user_id()
    site.check(item_id, user_id)
    page.reload()
    card = page.locator("article.item-card").filter(has_text="Demo-Produkt 3")
    expect(card).to_contain_text("€103.00")
    page.screenshot(path=shots / "items-desktop.png", full_page=True)

    # the shop lowers the price under the target: the next check alerts (and e-mails)
    site.set_price("89.99")
    site.check(item_id, user_id)
    page.goto(url + item_href)
    expect(page.get_by_role("heading", name="Price history (EUR)")).to_be_visible()
    expect(page.locator(".uplot canvas").first).to_be_visible()  # the chart library drew it
    # its text summary names the lowest price and the target
    expect(page.get_by_role("img", name=re.compile(r"lowest €89\.99.*target €95\.00"))).to_be_attached()
    page.screenshot(path=shots / "item-desktop.png", full_page=True)
    page.get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    expect(page.locator("main")).to_contain_text("€89.99")
    page.screenshot(path=shots / "alerts-desktop.png", full_page=True)
    mails = [m for m in site.mails() if m["destinations"] == [site.email]]
    assert len(mails) == 1 and mails[0]["source"] == site.sender and "89.99" in mails[0]["subject"]

    # phone: the list at 375 px, one column, no horizontal scrolling (same session: a
    # second browser context would rotate the refresh token under this one's feet)
    page.set_viewport_size({"width": 375, "height": 800})
    page.get_by_role("link", name="Items").click()
    expect(page.locator("article.item-card").first).to_contain_text("€89.99")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    page.screenshot(path=shots / "items-phone.png", full_page=True)
    page.locator("article.item-card").first.get_by_role("link").click()
    expect(page.locator(".uplot canvas").first).to_be_visible()
    page.screenshot(path=shots / "item-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # upgrade through Stripe Checkout (the local cloud's stand-in) and come back as pro
    page.get_by_role("link", name="Account").click()
    page.get_by_role("button", name="Upgrade to pro").click()
    expect(page.get_by_role("button", name="Pay and subscribe")).to_be_visible()
    page.get_by_role("button", name="Pay and subscribe").click()
    page.wait_for_url(url + "/account?checkout=success")
    # back signed in before the reload below: a reload while the app's refresh is in flight
    # would drop the rotated cookie and present the spent one (the API signs that out)
    expect(page.get_by_role("heading", name="Account", exact=True)).to_be_visible()
    # once the stand-in has delivered its webhooks, the account page says pro
    until("the stand-in's webhooks", site.stripe_delivered, delivery_timeout)
    page.reload()
    expect(page.locator("strong.tier")).to_have_text("pro")
    expect(page.locator("main")).to_contain_text("active")
    page.screenshot(path=shots / "account-desktop.png", full_page=True)

    # auto-buy is the ultra plan's: upgrade again, the same way
    page.get_by_role("button", name="Upgrade to ultra").click()
    page.get_by_role("button", name="Pay and subscribe").click()
    page.wait_for_url(url + "/account?checkout=success")
    # back signed in before the reload (as above)
    expect(page.get_by_role("heading", name="Account", exact=True)).to_be_visible()
    until("the stand-in's webhooks", site.stripe_delivered, delivery_timeout)
    page.reload()
    expect(page.locator("strong.tier")).to_have_text("ultra")
    expect(page.locator("main")).to_contain_text("Included")  # auto-buy, in the plan's limits
    ultra_since = time.monotonic()

    # turn auto-buy on for the item on its page
    page.goto(url + item_href)
    page.get_by_label("Auto-buy at the target (you confirm each order)").check()
    with page.expect_response(lambda r: r.url.endswith(f"/v1/items/{item_id}")
                              and r.request.method == "PATCH") as saved:
        page.get_by_role("button", name="Save", exact=True).click()
    assert saved.value.status == 200 and saved.value.json()["auto_buy"] is True
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()

    # the price goes back above the target (the alert re-arms), then under it again: the
    # worker creates a pending order for this crossing, once it sees the ultra plan
    site.set_price("103.00")
    site.check(item_id, user_id)
    time.sleep(max(0.0, ultra_since + site.tier_seen_within - time.monotonic()))
    site.set_price("92.50")
    site.check(item_id, user_id)

    # the alert of this crossing, and with it the order, which waits in the Orders page for
    # the person to confirm it inside its window
    page.get_by_role("link", name="Alerts").click()
    expect(page.locator("main")).to_contain_text("€92.50")
    page.get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", name="Auto-buy orders")).to_be_visible()
    order = page.locator("li.card").filter(has_text="Demo-Produkt 3")
    expect(order).to_have_count(1)
    expect(order).to_contain_text("€92.50")
    expect(order).to_contain_text("Waiting for your confirmation")
    expect(order).to_contain_text("confirm before")
    page.screenshot(path=shots / "orders-desktop.png", full_page=True)
    with page.expect_response(lambda r: "/v1/orders/" in r.url and r.url.endswith("/confirm")) as confirmed:
        order.get_by_role("button", name="Confirm order").click()
    # the API: confirmed by the person, then handed to the purchase webhook (placed, or
    # failed with the reason when none is configured, as on the twin and in process)
    assert confirmed.value.status == 200
    answer = confirmed.value.json()
    assert answer["item_id"] == item_id and answer["price"] == "92.50" and answer["currency"] == "EUR"
    assert [h["state"] for h in answer["history"]][:2] == ["pending", "confirmed"]
    assert answer["history"][1]["note"] == "confirmed by user"
    assert answer["state"] in ("placed", "failed") and answer["state"] == answer["history"][-1]["state"]
    expect(order).not_to_contain_text("Waiting for your confirmation")
    expect(order.get_by_role("button", name="Confirm order")).to_have_count(0)
    expect(order).to_contain_text(answer["history"][-1]["note"])
    page.reload()  # and so it stays
    expect(page.locator("li.card").filter(has_text="Demo-Produkt 3")).to_contain_text(
        answer["history"][-1]["note"])

    # stop tracking, then sign out
    page.goto(url + item_href)
    page.get_by_role("button", name="Stop tracking this item…").click()
    page.get_by_role("button", name="Yes, stop tracking").click()
    expect(page.get_by_role("heading", name="Tracked items")).to_be_visible()
    expect(page.locator("article.item-card")).to_have_count(0)
    with page.expect_response(lambda r: r.url.endswith("/v1/auth/logout")) as logout:
        page.get_by_role("button", name="Sign out").click()
    assert logout.value.status == 204
    expect(page.get_by_role("heading", name="Sign in to AutoBuy Guard")).to_be_visible()
    page.reload()  # the refresh cookie is gone: still signed out
    expect(page.get_by_role("heading", name="Sign in to AutoBuy Guard")).to_be_visible()
    assert errors == []
