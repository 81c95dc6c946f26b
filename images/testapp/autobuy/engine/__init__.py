"""Stand-in for the price engine: only ``python -m autobuy.engine.worker``."""
