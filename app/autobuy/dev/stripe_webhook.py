"""``make local``'s Stripe step: what a deployer does in Stripe's dashboard before the first
deploy, against the local cloud's Stripe stand-in.

    python -m autobuy.dev.stripe_webhook --stripe http://127.0.0.1:4566/stripe \\
        --url https://api.autobuyguard.store/v1/billing/webhook --out .localcloud/stripe-webhook.yml

Registers a webhook endpoint for ``--url`` (the API's ``/v1/billing/webhook`` under the
stack's public name; the twin delivers to its load balancer) and writes its signing secret
to ``--out`` (mode 0600) as the stack's ``autobuy_stripe_webhook_secret``, for
``ansible-playbook -e @FILE``: the data tier stores it in the app secret, the instances'
API verifies the events with it. The secret is never printed. An endpoint for ``--url``
whose secret ``--out`` already holds is kept (Stripe never shows a secret again), so a
second ``make local`` changes nothing; a fresh local cloud gets a new endpoint and secret.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from autobuy.dev.api import _stripe, stripe_webhook_secret

#: The Stripe key of a stack on a local cloud (stack.yml: autobuy_dev_stripe_secret_key).
STACK_KEY = "sk_test_localcloud_development"


def ensure(stripe_api: str, url: str, out: Path, key: str = STACK_KEY) -> bool:
    """True when a new endpoint was registered and its secret written to ``out``."""
    api = stripe_api.rstrip("/")
    if out.is_file() and any(e["url"] == url for e in _stripe("GET", api + "/v1/webhook_endpoints", key)["data"]):
        return False
    secret = stripe_webhook_secret(api, url, key)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(f"# The Stripe stand-in's signing secret for {url} (autobuy.dev.stripe_webhook)\n"
                   f"autobuy_stripe_webhook_secret: {json.dumps(secret)}\n")
    os.chmod(out, 0o600)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autobuy.dev.stripe_webhook",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--stripe", required=True, help="the stand-in: http://127.0.0.1:PORT/stripe")
    parser.add_argument("--url", required=True, help="where Stripe sends the events")
    parser.add_argument("--out", required=True, type=Path, help="vars file for -e @FILE")
    args = parser.parse_args(argv)
    if not args.url.startswith(("https://", "http://")):
        parser.error(f"--url must be an http(s) URL, not {args.url!r}")
    fresh = ensure(args.stripe, args.url, args.out)
    print(f"Stripe stand-in: webhook endpoint for {args.url} "
          f"{'registered' if fresh else 'kept'}; its signing secret is in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
