"""Test and benchmark support kept out of the production package (``app/autobuy``)."""
from __future__ import annotations

from pathlib import Path

#: The loopback demo shop, run as a script: ``python DEMO_SHOP --port N --products M``.
DEMO_SHOP = Path(__file__).with_name("demoshop.py")
