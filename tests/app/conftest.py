"""Fixtures for the API tests: an app on in-memory fakes, signed-in clients."""
from __future__ import annotations

from collections.abc import Iterator

import falcon.testing
import pytest

from autobuy.app import Stores, create_app
from tests.app import helpers


@pytest.fixture(scope="session")
def google_keys() -> Iterator[helpers.GoogleKeys]:
    keys = helpers.GoogleKeys()
    yield keys
    keys.close()


@pytest.fixture
def settings(google_keys):
    return helpers.settings(google_jwks_url=google_keys.url)


@pytest.fixture
def stores() -> Stores:
    return helpers.memory_stores()


@pytest.fixture
def client(settings, stores) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(settings, stores=stores))


def sign_in(client: falcon.testing.TestClient, email: str = "ana@example.com") -> dict:
    result = client.simulate_post("/v1/auth/dev", json={"email": email})
    assert result.status_code == 200, result.text
    return result.json


@pytest.fixture
def tokens(client) -> dict:
    return sign_in(client)


@pytest.fixture
def auth(tokens) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}
