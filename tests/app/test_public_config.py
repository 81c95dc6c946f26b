"""GET /v1/config: what the web app reads before sign-in instead of baking it into its build."""
from __future__ import annotations

import falcon.testing
from autobuy.app import create_app
from autobuy.config import TierLimits, default_tiers

from tests.app import helpers


def test_config_is_public_and_names_sign_in_methods_and_tier_limits(client):
    result = client.simulate_get("/v1/config")  # no Authorization header
    assert result.status_code == 200, result.text
    assert result.json == {
        "google_client_id": helpers.CLIENT_ID, "dev_signin": True,
        "tiers": {"free": {"item_limit": 5, "check_interval_minutes": 360, "history_days": 30,
                           "manual_checks_per_hour": 5, "auto_buy": False},
                  "pro": {"item_limit": 50, "check_interval_minutes": 60, "history_days": 365,
                          "manual_checks_per_hour": 30, "auto_buy": False},
                  "ultra": {"item_limit": 200, "check_interval_minutes": 15, "history_days": 730,
                            "manual_checks_per_hour": 120, "auto_buy": True}}}


def test_config_follows_the_settings(stores):
    tiers = {**default_tiers(), "pro": TierLimits(item_limit=75, check_interval_minutes=30,
                                                  history_days=400, manual_checks_per_hour=40)}
    settings = helpers.settings(dev_signin=False, google_client_id="123-abc.apps.googleusercontent.com",
                                tiers=tiers)
    body = falcon.testing.TestClient(create_app(settings, stores=stores)).simulate_get(
        "/v1/config").json
    assert body["dev_signin"] is False
    assert body["google_client_id"] == "123-abc.apps.googleusercontent.com"
    assert body["tiers"]["pro"]["item_limit"] == 75
    assert set(body) == {"google_client_id", "dev_signin", "tiers"}  # nothing secret
