"""Selecting due items without scanning the table, and handing them to the queue.

Items carry ``dueShard`` ("0".."15", ``autobuy.contract.due_shard``) and ``nextCheckAt``;
the keys-only GSI ``dueShard-nextCheckAt-index`` answers "due in shard s" with one Query
per shard, so a tick costs 16 small queries whatever the table size. Before an item is enqueued its
``nextCheckAt`` is moved forward by the lease time with a conditional update on the old
value: when several instances run the scheduler, exactly one of them enqueues it. The
worker sets the real next time (tier interval with jitter) after the check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from autobuy.contract import DUE_SHARDS, CheckMessage
from autobuy.engine.store import EngineStore

__all__ = ["ChecksQueue", "Scheduler"]


class ChecksQueue(Protocol):
    def send(self, bodies: list[str]) -> None: ...


class Scheduler:
    def __init__(self, store: EngineStore, queue: ChecksQueue, *, lease_seconds: int = 300,
                 per_shard: int = 200, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._queue = queue
        self._lease = lease_seconds
        self._per_shard = per_shard
        self._clock = clock

    def tick(self) -> int:
        """Enqueue every due item once; returns how many were enqueued."""
        now = int(self._clock())
        sent = 0
        for shard in range(DUE_SHARDS):
            bodies = []
            for item_id, user_id, next_at in self._store.due_items(str(shard), now,
                                                                   self._per_shard):
                if self._store.postpone(item_id, user_id, next_at, now + self._lease):
                    bodies.append(CheckMessage(item_id, user_id, "scheduled").encode())
            if bodies:
                self._queue.send(bodies)
                sent += len(bodies)
        return sent
