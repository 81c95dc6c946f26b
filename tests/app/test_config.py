"""Settings fail fast: required secrets, placeholders and dev sign-in in production."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from autobuy.config import Settings
from pydantic import ValidationError

from tests.app import helpers

PROD = dict(env="production", db_password="Zq8#strong-db-password", jwt_signing_key="j" * 24 + "Q9x!r8Tz3#pLmK",
            google_client_id=helpers.CLIENT_ID, stripe_secret_key="sk_live_abcdefghijklmnop1234",
            stripe_webhook_secret="whsec_abcdefghijklmnopqrstu")


def test_production_settings_with_real_secrets_load():
    assert Settings(_env_file=None, **PROD).env == "production"


@pytest.mark.parametrize("missing", ["db_password", "jwt_signing_key", "google_client_id",
                                     "stripe_secret_key", "stripe_webhook_secret"])
def test_required_settings_have_no_default(missing, monkeypatch):
    for key in list(os.environ):
        if key.startswith("AUTOBUY_"):
            monkeypatch.delenv(key)
    values = {k: v for k, v in PROD.items() if k != missing}
    with pytest.raises(ValidationError, match=rf"{missing}\s+Field required"):
        Settings(_env_file=None, **values)


@pytest.mark.parametrize("field,value", [("jwt_signing_key", "changeme-changeme-changeme"),
                                         ("db_password", "short"),
                                         ("stripe_webhook_secret", "whsec_placeholder_value_0000")])
def test_placeholder_secrets_refused_in_production_only(field, value):
    with pytest.raises(ValidationError, match=f"AUTOBUY_{field.upper()}"):
        Settings(_env_file=None, **{**PROD, field: value})
    assert Settings(_env_file=None, **{**PROD, "env": "development", field: value})


def test_dev_sign_in_refused_in_production():
    with pytest.raises(ValidationError, match="AUTOBUY_DEV_SIGNIN"):
        Settings(_env_file=None, **PROD, dev_signin=True)


def test_reads_the_contract_environment_names(monkeypatch):
    env = {"AUTOBUY_ENV": "development", "AUTOBUY_DB_HOST": "db.internal", "AUTOBUY_DB_PORT": "3307",
           "AUTOBUY_DB_USER": "u", "AUTOBUY_DB_PASSWORD": "p" * 20, "AUTOBUY_DB_NAME": "n",
           "AUTOBUY_JWT_SIGNING_KEY": "k" * 40, "AUTOBUY_GOOGLE_CLIENT_ID": "cid",
           "AUTOBUY_STRIPE_SECRET_KEY": "sk_test_x", "AUTOBUY_STRIPE_WEBHOOK_SECRET": "whsec_x",
           "AUTOBUY_AWS_REGION": "eu-west-1", "AUTOBUY_AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
           "AUTOBUY_TABLE_PREFIX": "t_", "AUTOBUY_SNS_TOPIC_ARN": "arn:aws:sns:x",
           "AUTOBUY_CHECKS_QUEUE_URL": "http://q", "AUTOBUY_DEV_SIGNIN": "true",
           "AUTOBUY_CORS_ORIGIN": "https://app.example"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    s = Settings(_env_file=None)
    assert (s.db_host, s.db_port, s.db_name, s.aws_region, s.table_prefix, s.dev_signin, s.cors_origin) == (
        "db.internal", 3307, "n", "eu-west-1", "t_", True, "https://app.example")
    assert s.checks_queue_url == "http://q" and s.sns_topic_arn == "arn:aws:sns:x"


def test_wsgi_refuses_bad_settings_without_printing_secrets():
    secret = "changeme-super-secret-value-123"
    env = {"PATH": os.environ["PATH"], "AUTOBUY_ENV": "production", "AUTOBUY_DB_PASSWORD": secret,
           "AUTOBUY_JWT_SIGNING_KEY": secret, "AUTOBUY_GOOGLE_CLIENT_ID": "cid",
           "AUTOBUY_STRIPE_SECRET_KEY": secret, "AUTOBUY_STRIPE_WEBHOOK_SECRET": secret}
    proc = subprocess.run([sys.executable, "-c", "import autobuy.wsgi"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 3
    assert "AUTOBUY_JWT_SIGNING_KEY" in proc.stderr and "placeholder" in proc.stderr
    assert secret not in proc.stderr + proc.stdout


def test_a_database_ca_file_that_does_not_exist_is_refused(tmp_path):
    missing = tmp_path / "rds-ca.pem"
    with pytest.raises(ValidationError, match=f"AUTOBUY_DB_TLS_CA: no such file: {missing}"):
        Settings(_env_file=None, **{**PROD, "db_tls_ca": str(missing)})
    missing.write_text("-----BEGIN CERTIFICATE-----\n")
    assert Settings(_env_file=None, **{**PROD, "db_tls_ca": str(missing)}).db_tls_ca == str(missing)
