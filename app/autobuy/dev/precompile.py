"""Byte-compile only the modules the API imports, for a small image that starts fast.

The image ships sources without .pyc files (most of site-packages is never imported);
this step, run at image build time, imports what gunicorn and the API load at start-up
and on their first requests, then writes .pyc files for exactly those modules.
"""
from __future__ import annotations

import importlib.util
import py_compile
import sys


def warm_up() -> None:
    import falcon.testing
    import gunicorn.app.wsgiapp  # noqa: F401
    import gunicorn.workers.gthread  # noqa: F401

    import autobuy.gunicorn_conf  # noqa: F401  (imports the app's module tree)
    from autobuy.app import Stores, create_app
    from autobuy.config import Settings
    from autobuy.db import make_engine
    from autobuy.repositories import memory

    settings = Settings(_env_file=None, env="development", db_password="x" * 16,
                        jwt_signing_key="x" * 32, google_client_id="warm-up",
                        stripe_secret_key="x" * 16, stripe_webhook_secret="x" * 16, dev_signin=True)
    make_engine(settings).dispose()
    import boto3

    boto3.session.Session().client("dynamodb", region_name="eu-central-1", endpoint_url="http://127.0.0.1:9")
    users = memory.MemoryUserRepository()
    stores = Stores(users=users, refresh_tokens=memory.MemoryRefreshTokenRepository(),
                    billing=memory.MemoryBillingRepository(users), items=memory.MemoryItemRepository(),
                    queue=memory.MemoryCheckQueue())
    client = falcon.testing.TestClient(create_app(settings, stores=stores))
    client.simulate_get("/health")
    token = client.simulate_post("/v1/auth/dev", json={"email": "warm@example.com"}).json["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    client.simulate_post("/v1/items", headers=auth,
                         json={"url": "https://shop.example.com/p", "target_price": "1", "currency": "EUR"})
    client.simulate_get("/v1/items", headers=auth)
    client.simulate_get("/nope")


def main() -> int:
    warm_up()
    count = 0
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not path or not path.endswith(".py"):
            continue
        try:
            py_compile.compile(path, cfile=importlib.util.cache_from_source(path), doraise=True)
            count += 1
        except (py_compile.PyCompileError, OSError):
            continue
    print(f"precompile: {count} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
