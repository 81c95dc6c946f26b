"""The WSGI entry point gunicorn loads (``autobuy.wsgi:application``).

The composition root of the API: settings are built here from the environment and
passed down. A bad setting stops the process with the names of the settings at
fault, never their values.
"""
from __future__ import annotations

import os

from autobuy import logs
from autobuy.app import create_app
from autobuy.config import load_settings

logs.configure(os.environ.get("AUTOBUY_LOG_LEVEL", "INFO"))
application = create_app(load_settings())
