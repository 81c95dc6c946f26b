"""The worker's settings (environment, prefix ``AUTOBUY_``), built once in ``runner.main``.

The settings shared with the API (``autobuy.config.SharedSettings``: AUTOBUY_ENV,
AUTOBUY_AWS_REGION, AUTOBUY_AWS_ENDPOINT_URL, AUTOBUY_TABLE_PREFIX,
AUTOBUY_SNS_TOPIC_ARN, AUTOBUY_CHECKS_QUEUE_URL, AUTOBUY_URL_ALLOW_HOSTS, AUTOBUY_TIERS,
the auto-buy settings) are read the same way by both; the worker requires the queue
URL. Engine-only settings have working defaults, so the worker starts from the API's
env file; auto-buy purchases need AUTOBUY_PURCHASE_WEBHOOK_URL and _SECRET (without
them confirmed orders fail with a clear note rather than being sent anywhere). E-mail
alerts to the user's own address go through SES with AUTOBUY_SES_FROM, or over SMTP with
AUTOBUY_SMTP_HOST and AUTOBUY_SMTP_FROM (see ``mail``). AUTOBUY_SNS_TOPIC_ARN is the
operators' topic: the worker publishes no user alert there.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from autobuy.config import SharedSettings

__all__ = ["EngineSettings"]


class EngineSettings(SharedSettings):
    checks_queue_url: str = Field(min_length=1)

    engine_concurrency: int = Field(default=64, gt=0, le=1000)
    engine_per_host: int = Field(default=2, gt=0, le=64)
    engine_politeness_seconds: float = Field(default=1.0, ge=0)
    engine_scheduler: bool = True
    engine_tick_seconds: float = Field(default=10.0, gt=0)
    engine_owner: str = ""
    # Shops rendered by headless Chromium (JSON list of domains); empty = browser off.
    engine_script_rendered_hosts: frozenset[str] = frozenset()
    engine_browser: str = "chromium"
    # While SQS or the stores fail, the worker pauses before its next receive: from
    # engine_backoff_seconds, doubling per failure, up to engine_backoff_max_seconds
    # (jittered); the first success resets it. Failed checks' messages stay on the queue.
    engine_backoff_seconds: float = Field(default=0.5, gt=0, le=60)
    engine_backoff_max_seconds: float = Field(default=30.0, gt=0, le=900)

    autobuy_auto_confirm: bool = False

    # E-mail alerts to the user's own address through Amazon SES, from this address of the
    # stack's verified SES domain (the mail tier); off when empty.
    ses_from: str = ""
    ses_configuration_set: str = ""
    # ... or over SMTP; off without a host.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, gt=0, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = ""
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @model_validator(mode="after")
    def _production_rules(self) -> EngineSettings:
        if self.engine_backoff_max_seconds < self.engine_backoff_seconds:
            raise ValueError("AUTOBUY_ENGINE_BACKOFF_MAX_SECONDS must be at least "
                             "AUTOBUY_ENGINE_BACKOFF_SECONDS")
        if self.ses_from and "@" not in self.ses_from:
            raise ValueError("AUTOBUY_SES_FROM must be an e-mail address (e.g. alerts@autobuyguard.store)")
        if self.smtp_host and "@" not in self.smtp_from:
            raise ValueError("AUTOBUY_SMTP_FROM (an e-mail address) is required with AUTOBUY_SMTP_HOST")
        if self.smtp_username and not self.smtp_password.get_secret_value():
            raise ValueError("AUTOBUY_SMTP_PASSWORD is required with AUTOBUY_SMTP_USERNAME")
        if self.env == "production" and self.smtp_username and not self.smtp_starttls:
            raise ValueError("AUTOBUY_SMTP_STARTTLS must stay on when logging in (production)")
        return self
