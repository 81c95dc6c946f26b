"""``make api``: the API on http://127.0.0.1:8000 under gunicorn, for people trying it.

Starts (when needed) a private MariaDB under .cache/api/ on 127.0.0.1, creates the
DynamoDB tables of the shared definition on the local cloud, applies the migrations,
then replaces itself with gunicorn (development settings, dev sign-in enabled).
Development secrets are generated once into .cache/api/dev-secrets.json (mode 0600).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import boto3

from autobuy.dev.mariadb import MariaDB
from autobuy.dev.tables import ensure_tables


def dev_secrets(path: Path) -> dict[str, str]:
    if path.exists():
        return json.loads(path.read_text())
    values = {"db_password": "dev-" + secrets.token_urlsafe(18),
              "jwt_signing_key": secrets.token_urlsafe(48),
              "stripe_webhook_secret": "whsec_" + secrets.token_hex(16)}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(values, out)
    return values


def api_env(args: argparse.Namespace, values: dict[str, str]) -> dict[str, str]:
    return {
        "AUTOBUY_ENV": "development", "AUTOBUY_DB_HOST": "127.0.0.1", "AUTOBUY_DB_PORT": str(args.db_port),
        "AUTOBUY_DB_USER": "autobuy", "AUTOBUY_DB_PASSWORD": values["db_password"],
        "AUTOBUY_DB_NAME": "autobuy", "AUTOBUY_JWT_SIGNING_KEY": values["jwt_signing_key"],
        "AUTOBUY_GOOGLE_CLIENT_ID": os.environ.get("AUTOBUY_GOOGLE_CLIENT_ID", "local.apps.googleusercontent.com"),
        "AUTOBUY_STRIPE_SECRET_KEY": os.environ.get("AUTOBUY_STRIPE_SECRET_KEY", "sk_test_local_development"),
        "AUTOBUY_STRIPE_WEBHOOK_SECRET": values["stripe_webhook_secret"],
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
