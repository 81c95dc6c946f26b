"""``python -m autobuy.engine``: the price-engine worker process (``runner.main``)."""

from __future__ import annotations

from autobuy.engine.runner import main

main()
