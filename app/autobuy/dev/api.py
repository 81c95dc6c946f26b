"""``make api``: the API on http://127.0.0.1:8000 under gunicorn, for people trying it.

Starts (when needed) a private MariaDB under .cache/api/ on 127.0.0.1, creates the
DynamoDB tables of the shared definition on the local cloud, applies the migrations,
then replaces itself with gunicorn (development settings, dev sign-in enabled).
Development secrets are generated once into .cache/api/dev-secrets.json (mode 0600).
Stripe is the local cloud's stand-in (its /stripe routes): a webhook endpoint for this API
is registered there at every start and its signing secret becomes the API's.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import boto3

from autobuy.dev.mariadb import MariaDB
from autobuy.dev.tables import ensure_tables


def dev_secrets(path: Path) -> dict[str, str]:
    if path.exists():
        return json.loads(path.read_text())
    values = {"db_password": "dev-" + secrets.token_urlsafe(18),
              "jwt_signing_key": secrets.token_urlsafe(48)}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(values, out)
    return values


STRIPE_KEY = "sk_test_local_development"
STRIPE_EVENTS = ("checkout.session.completed", "customer.subscription.created",
                 "customer.subscription.updated", "customer.subscription.deleted", "invoice.payment_failed")


def _stripe(method: str, url: str, key: str, form: dict | None = None) -> dict:
    data = urlencode(form, doseq=True).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.load(resp)


def stripe_webhook_secret(stripe_api: str, webhook_url: str, key: str = STRIPE_KEY) -> str:
    """Register ``webhook_url`` with the Stripe stand-in (replacing an earlier registration of
    the same URL) and return the endpoint's signing secret, as an operator copies it from Stripe."""
    for endpoint in _stripe("GET", stripe_api + "/v1/webhook_endpoints", key)["data"]:
        if endpoint["url"] == webhook_url:
            _stripe("DELETE", f"{stripe_api}/v1/webhook_endpoints/{endpoint['id']}", key)
    created = _stripe("POST", stripe_api + "/v1/webhook_endpoints", key,
                      {"url": webhook_url, "enabled_events[]": list(STRIPE_EVENTS)})
    return str(created["secret"])


def api_env(args: argparse.Namespace, values: dict[str, str]) -> dict[str, str]:
    return {
        "AUTOBUY_ENV": "development", "AUTOBUY_DB_HOST": "127.0.0.1", "AUTOBUY_DB_PORT": str(args.db_port),
        "AUTOBUY_DB_USER": "autobuy", "AUTOBUY_DB_PASSWORD": values["db_password"],
        "AUTOBUY_DB_NAME": "autobuy", "AUTOBUY_JWT_SIGNING_KEY": values["jwt_signing_key"],
        "AUTOBUY_GOOGLE_CLIENT_ID": os.environ.get("AUTOBUY_GOOGLE_CLIENT_ID", "local.apps.googleusercontent.com"),
        "AUTOBUY_STRIPE_SECRET_KEY": os.environ.get("AUTOBUY_STRIPE_SECRET_KEY", STRIPE_KEY),
        "AUTOBUY_STRIPE_API_URL": args.localcloud.rstrip("/") + "/stripe",
        "AUTOBUY_CHECKOUT_SUCCESS_URL": args.site + "/account?checkout=success",
        "AUTOBUY_CHECKOUT_CANCEL_URL": args.site + "/account?checkout=cancelled",
        "AUTOBUY_AWS_REGION": "eu-central-1", "AUTOBUY_AWS_ENDPOINT_URL": args.localcloud,
        "AUTOBUY_TABLE_PREFIX": os.environ.get("AUTOBUY_TABLE_PREFIX", ""),
        "AUTOBUY_DEV_SIGNIN": "true",
        "AUTOBUY_CORS_ORIGIN": os.environ.get("AUTOBUY_CORS_ORIGIN", "http://localhost:3000"),
        "AWS_ACCESS_KEY_ID": "localcloud", "AWS_SECRET_ACCESS_KEY": "localcloud",
        "GUNICORN_BIND": args.bind, "GUNICORN_WORKERS": os.environ.get("GUNICORN_WORKERS", "2"),
    }


def prepare(args: argparse.Namespace) -> dict[str, str]:
    cache = Path(args.cache).resolve()
    values = dev_secrets(cache / "dev-secrets.json")
    db = MariaDB(cache / "mariadb", args.db_port)
    db.start()
    db.ensure_database("autobuy", "autobuy", values["db_password"])
    env = api_env(args, values)
    env["AUTOBUY_STRIPE_WEBHOOK_SECRET"] = stripe_webhook_secret(
        env["AUTOBUY_STRIPE_API_URL"], f"http://{args.bind}/v1/billing/webhook", env["AUTOBUY_STRIPE_SECRET_KEY"])
    client = boto3.client("dynamodb", endpoint_url=args.localcloud, region_name="eu-central-1",
                          aws_access_key_id="localcloud", aws_secret_access_key="localcloud")
    created = ensure_tables(client, env["AUTOBUY_TABLE_PREFIX"])
    print(f"api: MariaDB on 127.0.0.1:{args.db_port}; tables created: {', '.join(created) or 'none missing'}")
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autobuy.dev.api", description=__doc__)
    parser.add_argument("--localcloud", default=os.environ.get("LOCALCLOUD_URL", "http://127.0.0.1:4566"))
    parser.add_argument("--cache", default=".cache/api")
    parser.add_argument("--db-port", type=int, default=int(os.environ.get("API_DB_PORT", "3316")))
    parser.add_argument("--bind", default="127.0.0.1:8000")
    parser.add_argument("--site", default=os.environ.get("AUTOBUY_SITE_URL", "http://localhost:5173"),
                        help="where the web app runs (Stripe checkout returns to its /account page)")
    args = parser.parse_args(argv)
    env = {**os.environ, **prepare(args)}
    subprocess.run([sys.executable, "-m", "autobuy.migrate", "upgrade", "head"], env=env, check=True)
    print(f"api: migrations applied; gunicorn on http://{args.bind} (dev sign-in: POST /v1/auth/dev)")
    sys.stdout.flush()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    os.execve(gunicorn, [str(gunicorn), "-c", "python:autobuy.gunicorn_conf", "autobuy.wsgi:application"], env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
