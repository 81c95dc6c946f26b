"""The worker's settings (environment, prefix ``AUTOBUY_``), built once in ``runner.main``.

Shared names with the API (same variables the app role renders): AUTOBUY_ENV,
AUTOBUY_AWS_REGION, AUTOBUY_AWS_ENDPOINT_URL, AUTOBUY_TABLE_PREFIX,
AUTOBUY_SNS_TOPIC_ARN, AUTOBUY_CHECKS_QUEUE_URL, AUTOBUY_URL_ALLOW_HOSTS. Engine-only
settings have working defaults, so the worker starts from the API's env file; auto-buy
purchases need AUTOBUY_PURCHASE_WEBHOOK_URL and _SECRET (without them confirmed orders
fail with a clear note rather than being sent anywhere). E-mail alerts to the user's own
address need AUTOBUY_SMTP_HOST and AUTOBUY_SMTP_FROM (see ``mail``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["EngineSettings"]


class EngineSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTOBUY_", extra="ignore", frozen=True)

    env: Literal["development", "production"] = "production"
    aws_region: str = "eu-central-1"
    aws_endpoint_url: str = ""
    table_prefix: str = ""
    sns_topic_arn: str = ""
    checks_queue_url: str = Field(min_length=1)
    url_allow_hosts: frozenset[str] = frozenset()

    engine_concurrency: int = Field(default=64, gt=0, le=1000)
    engine_per_host: int = Field(default=2, gt=0, le=64)
    engine_politeness_seconds: float = Field(default=1.0, ge=0)
    engine_scheduler: bool = True
    engine_tick_seconds: float = Field(default=10.0, gt=0)
    engine_owner: str = ""
    # Shops rendered by headless Chromium (JSON list of domains); empty = browser off.
    engine_script_rendered_hosts: frozenset[str] = frozenset()
    engine_browser: str = "chromium"

    purchase_webhook_url: str = ""
    purchase_webhook_secret: SecretStr = SecretStr("")
    autobuy_monthly_cap: Decimal = Field(default=Decimal("500"), gt=0)
    autobuy_confirm_seconds: int = Field(default=900, gt=0)
    autobuy_auto_confirm: bool = False

    # E-mail alerts to the user's own address; off without a host.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, gt=0, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = ""
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @model_validator(mode="after")
    def _production_rules(self) -> EngineSettings:
        if self.env == "production" and self.url_allow_hosts:
            raise ValueError("AUTOBUY_URL_ALLOW_HOSTS is for development only")
        if self.purchase_webhook_url and not self.purchase_webhook_secret.get_secret_value():
            raise ValueError("AUTOBUY_PURCHASE_WEBHOOK_SECRET is required with a webhook URL")
        if self.smtp_host and "@" not in self.smtp_from:
            raise ValueError("AUTOBUY_SMTP_FROM (an e-mail address) is required with AUTOBUY_SMTP_HOST")
        if self.smtp_username and not self.smtp_password.get_secret_value():
            raise ValueError("AUTOBUY_SMTP_PASSWORD is required with AUTOBUY_SMTP_USERNAME")
        if self.env == "production" and self.smtp_username and not self.smtp_starttls:
            raise ValueError("AUTOBUY_SMTP_STARTTLS must stay on when logging in (production)")
        return self
