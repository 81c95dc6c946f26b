"""Property-based run against /openapi.json: no 5xx, every response matches the document."""
from __future__ import annotations

import hypothesis
import schemathesis
from pathlib import Path

from autobuy.app import create_app
from autobuy.engine.fetch import FetchResult
from autobuy.services.ratelimit import RateLimiter
from schemathesis import checks

from tests.app import helpers

CORPUS = Path(__file__).parent / "engine" / "corpus"


class _NoLimit(RateLimiter):
    """Hypothesis sends many requests from one address; rate limits are tested elsewhere."""

    def hit(self, key: str, *, limit: int, window: float) -> None:
        return None


class _CorpusShop:
    """Previews read a corpus page (through the real extraction) instead of the network."""

    def fetch(self, url: str) -> FetchResult:
        return FetchResult(url, "ok", 200, (CORPUS / "01-jsonld-offer-de.html").read_bytes(),
                           content_type="text/html")


_KEYS = helpers.GoogleKeys()
_STORES = helpers.memory_stores()
_STORES.previewer = _CorpusShop()
APP = create_app(helpers.settings(google_jwks_url=_KEYS.url), stores=_STORES, limiter=_NoLimit())
_TOKEN = None


def _auth() -> dict[str, str]:
    global _TOKEN
    if _TOKEN is None:
        import falcon.testing
        client = falcon.testing.TestClient(APP)
        _TOKEN = client.simulate_post("/v1/auth/dev", json={"email": "prop@example.com"}).json["access_token"]
        client.simulate_post("/v1/items", headers={"Authorization": f"Bearer {_TOKEN}"},
                             json={"url": "https://shop.example.com/p", "target_price": "5", "currency": "EUR"})
    return {"Authorization": f"Bearer {_TOKEN}"}


schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


@schema.parametrize()
@hypothesis.settings(max_examples=25, deadline=None,
                     suppress_health_check=list(hypothesis.HealthCheck), derandomize=True)
def test_api_conforms_to_its_openapi_document(case):
    response = case.call(headers=_auth())
    case.validate_response(response, checks=CHECKS)
