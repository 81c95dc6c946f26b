"""Test doubles shared by the app tests: a local Google key set, Stripe signatures, fakes."""
from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
from dataclasses import dataclass, field

import jwt
from autobuy.app import Stores
from autobuy.config import Settings
from autobuy.engine.store import MemoryEngineStore
from autobuy.repositories.memory import (
    MemoryBillingRepository,
    MemoryCheckQueue,
    MemoryItemRepository,
    MemoryRefreshTokenRepository,
    MemoryUserRepository,
)
from autobuy.services.billing import CheckoutSession, PaymentGateway
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "test-client.apps.googleusercontent.com"
JWT_KEY = "k" * 48
WEBHOOK_SECRET = "whsec_testsecretvalue0123456789"
STRIPE_KEY = "sk_test_testkeyvalue0123456789"
DB_PASSWORD = "db-password-for-tests-0123"


def settings(**overrides) -> Settings:
    values = dict(env="development", db_password=DB_PASSWORD, jwt_signing_key=JWT_KEY,
                  google_client_id=CLIENT_ID, stripe_secret_key=STRIPE_KEY,
                  stripe_webhook_secret=WEBHOOK_SECRET, dev_signin=True,
                  cors_origin="https://app.autobuyguard.store",
                  google_jwks_url="http://127.0.0.1:9/unused")
    values.update(overrides)
    return Settings(_env_file=None, **values)


class GoogleKeys:
    """A local RSA key pair and its JWKS, served over loopback HTTP (no network)."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-kid-1"
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        self.jwks = {"keys": [jwk]}
        self.fetches = 0
        keys = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                keys.fetches += 1
                body = json.dumps(keys.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/oauth2/v3/certs"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, *, sub: str = "google-sub-1", email: str = "ana@example.com", aud: str = CLIENT_ID,
              iss: str = "https://accounts.google.com", expires_in: int = 3600, key=None,
              kid: str | None = None, email_verified: bool = True, **extra) -> str:
        now = int(time.time())
        claims = {"sub": sub, "email": email, "email_verified": email_verified, "aud": aud, "iss": iss,
                  "iat": now, "exp": now + expires_in, "name": "Ana", **extra}
        return jwt.encode(claims, key or self.key, algorithm="RS256",
                          headers={"kid": kid or self.kid})

    def close(self) -> None:
        self.server.shutdown()


def stripe_signature(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's scheme: t=<unix>,v1=hex(HMAC-SHA256(secret, "<t>.<payload>"))."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


@dataclass
class FakeGateway(PaymentGateway):
    calls: list[dict] = field(default_factory=list)

    def create_checkout_session(self, **kwargs) -> CheckoutSession:
        self.calls.append(kwargs)
        n = len(self.calls)
        return CheckoutSession(f"cs_test_{n}", f"https://checkout.stripe.test/c/pay/cs_test_{n}")


def memory_stores(**overrides) -> Stores:
    users = MemoryUserRepository()
    values = dict(users=users, refresh_tokens=MemoryRefreshTokenRepository(),
                  billing=MemoryBillingRepository(users), items=MemoryItemRepository(),
                  queue=MemoryCheckQueue(), gateway=FakeGateway(), engine=MemoryEngineStore())
    values.update(overrides)
    return Stores(**values)
