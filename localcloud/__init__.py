"""The local cloud: moto server on loopback, extended with what AutoBuy Guard needs.

Every gap that moto leaves and this project fills lives in this package, applied
in-process before the server starts (see ``localcloud.extensions``); installed
files are never patched.
"""

DEFAULT_PORT = 4566
DEFAULT_HOST = "127.0.0.1"
