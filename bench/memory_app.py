"""Bench only: the real API (same factory, middleware, services) on in-memory stores.

Shows what the API itself costs on GET /v1/items without the local cloud's DynamoDB
emulator. Every worker seeds the same user (id "bench-user") with 20 items.
"""
from __future__ import annotations

import time
from decimal import Decimal

from autobuy.app import Stores, create_app
from autobuy.config import Settings
from autobuy.models import Item
from autobuy.repositories import memory

settings = Settings()
users = memory.MemoryUserRepository()
items = memory.MemoryItemRepository()
now = int(time.time())
for i in range(20):
    items.create(Item(item_id=f"item{i:02d}", user_id="bench-user", url=f"https://www.example-shop.de/p/{i}",
                      title=f"Product {i}", target_price=Decimal(f"{i + 1}.99"), currency="EUR",
                      auto_buy=False, status="active", created_at=now, updated_at=now, next_check_at=now),
                 item_limit=50)
application = create_app(settings, stores=Stores(
    users=users, refresh_tokens=memory.MemoryRefreshTokenRepository(),
    billing=memory.MemoryBillingRepository(users), items=items, queue=memory.MemoryCheckQueue()))
