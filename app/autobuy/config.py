"""Typed settings read from the environment (prefix ``AUTOBUY_``).

Built once, in :mod:`autobuy.wsgi`, and passed to :func:`autobuy.app.create_app`.
Required secrets have no default, so a missing one stops the process at start-up;
a placeholder secret, or the development sign-in, is refused in production.
"""
from __future__ import annotations

import sys
from pathlib import Path
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from autobuy.schema import load_tables

Tier = Literal["free", "pro", "ultra"]
TIERS: tuple[Tier, ...] = ("free", "pro", "ultra")

# Substrings that mark a value as a placeholder rather than a real secret.
_PLACEHOLDER_MARKERS = ("changeme", "change-me", "placeholder", "dev-only", "example", "xxxx", "todo")


class TierLimits(BaseModel):
    """What one subscription tier allows."""

    item_limit: int = Field(gt=0)
    check_interval_minutes: int = Field(gt=0)
    history_days: int = Field(gt=0)
    manual_checks_per_hour: int = Field(gt=0)
    auto_buy: bool = False


def default_tiers() -> dict[str, TierLimits]:
    """The tiers when ``AUTOBUY_TIERS`` is not set (docs/api.md, "Tiers")."""
    return {
        "free": TierLimits(item_limit=5, check_interval_minutes=360, history_days=30,
                           manual_checks_per_hour=5),
        "pro": TierLimits(item_limit=50, check_interval_minutes=60, history_days=365,
                          manual_checks_per_hour=30),
        "ultra": TierLimits(item_limit=200, check_interval_minutes=15, history_days=730,
                            manual_checks_per_hour=120, auto_buy=True),
    }


def is_placeholder(value: str) -> bool:
    """True when a secret looks like a placeholder (or is too short to be real)."""
    lowered = value.lower()
    return len(value) < 16 or any(marker in lowered for marker in _PLACEHOLDER_MARKERS)


class SharedSettings(BaseSettings):
    """What the API and the price engine both read, from the same ``AUTOBUY_*`` variables
    (the app role renders one env file for both containers). Each process builds its
    own subclass once: :class:`Settings` (API) and ``autobuy.engine.config.EngineSettings``.
    """

    model_config = SettingsConfigDict(env_prefix="AUTOBUY_", extra="ignore", frozen=True)

    env: Literal["development", "production"] = "production"

    aws_region: str = "eu-central-1"
    aws_endpoint_url: str = ""
    table_prefix: str = ""
    # A table of dynamodb_tables.yml -> the table this deployment uses instead of
    # prefix + name (JSON, e.g. {"autobuy_items": "autobuy_items-restored-0412"}): how a
    # table restored from a backup (playbooks/restore.yml) is put to use.
    table_names: dict[str, str] = Field(default_factory=dict)
    sns_topic_arn: str = ""
    checks_queue_url: str = ""
    # Demo shops on loopback may be admitted explicitly (development only).
    url_allow_hosts: frozenset[str] = frozenset()
    # The tiers: the API's limits, and the engine's check intervals and history retention.
    tiers: dict[str, TierLimits] = Field(default_factory=default_tiers)

    # Auto-buy: confirmed orders are POSTed to the purchase webhook; without a URL a
    # confirm ends the order as "failed" with a note saying no webhook is configured.
    purchase_webhook_url: str = ""
    purchase_webhook_secret: SecretStr = SecretStr("")
    autobuy_monthly_cap: Decimal = Field(default=Decimal("500"), gt=0)
    autobuy_confirm_seconds: int = Field(default=900, gt=0)

    # Bounds on every AWS call (botocore's defaults are 60 s connect, 60 s read, and
    # retries with back-off): a slow DynamoDB/SQS/SNS answers within about
    # attempts x (connect + read) + back-off. Chosen from the request budget (docs/api.md,
    # "Timeouts and degraded dependencies").
    aws_connect_timeout_seconds: float = Field(default=1.0, gt=0, le=10)
    aws_read_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    aws_max_attempts: int = Field(default=2, ge=1, le=5)

    @model_validator(mode="after")
    def _shared_rules(self) -> SharedSettings:
        if set(self.tiers) != set(TIERS):
            raise ValueError(f"tiers must define exactly {', '.join(TIERS)}")
        if self.purchase_webhook_url and not self.purchase_webhook_secret.get_secret_value():
            raise ValueError("AUTOBUY_PURCHASE_WEBHOOK_SECRET is required with a webhook URL")
        unknown = sorted(set(self.table_names) - {table["name"] for table in load_tables()})
        if unknown:
            raise ValueError(f"AUTOBUY_TABLE_NAMES names tables dynamodb_tables.yml does not "
                             f"define: {', '.join(unknown)}")
        if self.env == "production" and self.url_allow_hosts:
            raise ValueError("AUTOBUY_URL_ALLOW_HOSTS is for development only")
        return self

    def tier(self, name: str) -> TierLimits:
        return self.tiers[name]


class Settings(SharedSettings):
    """Every setting of the API. Names are a contract with the app role (see docs/api.md)."""

    db_host: str = "127.0.0.1"
    db_port: int = Field(default=3306, gt=0, lt=65536)
    db_user: str = "autobuy"
    db_password: SecretStr
    db_name: str = "autobuy"
    db_socket: str = ""  # local development only: a Unix socket instead of host/port
    # Bounds on every MySQL call (docs/api.md, "Timeouts and degraded dependencies"):
    # a frozen server costs a request at most connect/read + one reconnect, under 3 s.
    db_connect_timeout_seconds: float = Field(default=1.0, gt=0, le=10)
    db_read_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    db_write_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    db_pool_timeout_seconds: float = Field(default=1.0, gt=0, le=10)
    db_pool_size: int = Field(default=5, gt=0, le=100)
    db_pool_max_overflow: int = Field(default=5, ge=0, le=100)
    # TLS to MySQL: a CA bundle file; when set every connection uses TLS and verifies the
    # server's certificate and name (docs/security.md, "Database TLS"). On an instance:
    # the machine's trust store, which holds the RDS CA bundle on AWS, the twin CA locally.
    db_tls_ca: str = ""
    # Secrets Manager ids the app re-reads without a restart (autobuy.secret_values):
    # the database secret when MySQL refuses the password (1045), the app secret (JWT
    # signing keys) when the cached copy is older than secret_cache_seconds.
    db_secret_id: str = ""
    app_secret_id: str = ""
    secret_cache_seconds: float = Field(default=300.0, gt=0, le=900)

    # Bulkhead and breaker, per dependency and worker process (autobuy.dependencies): at
    # most this many calls to one dependency in flight, so a hanging dependency never
    # holds every gunicorn thread (must stay below GUNICORN_THREADS: gunicorn_conf refuses
    # to start otherwise). One more call waits for a slot only while the calls in flight
    # are younger than the patience, else it is refused at once (503). After a failed
    # call, calls are refused for the cooldown (503, Retry-After), then one probe goes.
    dependency_max_in_flight: int = Field(default=3, gt=0, le=64)
    dependency_patience_seconds: float = Field(default=0.5, ge=0, le=5)
    dependency_cooldown_seconds: float = Field(default=2.0, gt=0, le=60)
    # /ready answers within this bound whatever hangs (a check still running = "timeout").
    ready_timeout_seconds: float = Field(default=0.8, gt=0, lt=1)

    jwt_signing_key: SecretStr
    google_client_id: str = Field(min_length=1)
    google_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    stripe_secret_key: SecretStr
    stripe_webhook_secret: SecretStr
    stripe_price_pro: str = "price_autobuy_pro"
    stripe_price_ultra: str = "price_autobuy_ultra"
    checkout_success_url: str = "https://autobuyguard.store/billing/success"
    checkout_cancel_url: str = "https://autobuyguard.store/billing/cancel"
    # Stripe checkout: per attempt, and attempts on network errors/5xx (0.5 s back-off).
    stripe_timeout_seconds: float = Field(default=4.0, gt=0, le=20)
    stripe_attempts: int = Field(default=2, ge=1, le=3)
    # Stripe's API base URL: the twin's stand-in (the local cloud's /stripe) replaces Stripe here.
    stripe_api_url: str = "https://api.stripe.com"

    # Called from a request (confirm), so shorter than the engine's own sends.
    purchase_webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=20)
    purchase_webhook_retries: int = Field(default=1, ge=0, le=3)

    dev_signin: bool = False
    cors_origin: str = ""

    access_token_minutes: int = Field(default=15, gt=0, le=15)
    refresh_token_days: int = Field(default=30, gt=0, le=90)
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    signin_per_minute_ip: int = Field(default=20, gt=0)
    signin_per_minute_user: int = Field(default=10, gt=0)
    check_per_minute_ip: int = Field(default=30, gt=0)

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.purchase_webhook_url and not self.purchase_webhook_url.startswith(
                ("https://", "http://")):
            raise ValueError("AUTOBUY_PURCHASE_WEBHOOK_URL must be an http(s) URL")
        if not self.stripe_api_url.startswith(("https://", "http://")):
            raise ValueError("AUTOBUY_STRIPE_API_URL must be an http(s) URL")
        if self.db_tls_ca and not Path(self.db_tls_ca).is_file():
            raise ValueError(f"AUTOBUY_DB_TLS_CA: no such file: {self.db_tls_ca}")
        if self.env != "production":
            return self
        if self.dev_signin:
            raise ValueError("AUTOBUY_DEV_SIGNIN must be false when AUTOBUY_ENV=production")
        if not self.stripe_api_url.startswith("https://"):
            raise ValueError("AUTOBUY_STRIPE_API_URL must use https in production")
        secrets = {
            "AUTOBUY_DB_PASSWORD": self.db_password,
            "AUTOBUY_JWT_SIGNING_KEY": self.jwt_signing_key,
            "AUTOBUY_STRIPE_SECRET_KEY": self.stripe_secret_key,
            "AUTOBUY_STRIPE_WEBHOOK_SECRET": self.stripe_webhook_secret,
        }
        if self.purchase_webhook_url:
            if not self.purchase_webhook_url.startswith("https://"):
                raise ValueError("AUTOBUY_PURCHASE_WEBHOOK_URL must use https in production")
            secrets["AUTOBUY_PURCHASE_WEBHOOK_SECRET"] = self.purchase_webhook_secret
        bad = sorted(name for name, value in secrets.items() if is_placeholder(value.get_secret_value()))
        if bad:
            raise ValueError(f"placeholder or too-short secret in production: {', '.join(bad)}")
        return self

    @property
    def stripe_prices(self) -> dict[str, Tier]:
        """Stripe price id -> the tier it buys."""
        return {self.stripe_price_pro: "pro", self.stripe_price_ultra: "ultra"}

    def database_url(self) -> str:
        """SQLAlchemy URL (the password is passed separately, never formatted into logs)."""
        if self.db_socket:
            return f"mysql+pymysql://{self.db_user}@localhost/{self.db_name}?unix_socket={self.db_socket}&charset=utf8mb4"
        return f"mysql+pymysql://{self.db_user}@{self.db_host}:{self.db_port}/{self.db_name}?charset=utf8mb4"


def load_settings() -> Settings:
    """Settings from the environment, or exit naming the bad settings (never their values).

    Called only by the process entry points (``autobuy.wsgi`` and ``autobuy.migrate``).
    """
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'AUTOBUY_' + '_'.join(str(p) for p in err['loc']).upper() if err['loc'] else 'settings'}: "
            f"{err['msg']}" for err in exc.errors(include_input=False, include_url=False))
        print(f"autobuy: invalid settings: {problems}", file=sys.stderr)
        raise SystemExit(3) from None
