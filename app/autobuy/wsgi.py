"""The WSGI entry point gunicorn loads (``autobuy.wsgi:application``).

The only place settings are built from the environment. A bad setting stops the
process with the names of the settings at fault and never their values.
"""
from __future__ import annotations

import os
import sys

from pydantic import ValidationError

from autobuy import logs
from autobuy.app import create_app
from autobuy.config import Settings


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'AUTOBUY_' + '_'.join(str(p) for p in err['loc']).upper() if err['loc'] else 'settings'}: "
            f"{err['msg']}" for err in exc.errors(include_input=False, include_url=False))
        print(f"autobuy: invalid settings: {problems}", file=sys.stderr)
        raise SystemExit(3) from None


logs.configure(os.environ.get("AUTOBUY_LOG_LEVEL", "INFO"))
application = create_app(load_settings())
