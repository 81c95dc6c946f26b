"""In-process stand-ins for the engine's outside world, shared by the tests and bench/.

Not part of the production package: the worker never runs on them.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from autobuy.engine.notify import alert_payload
from autobuy.engine.store import EngineItem, Order, StoredAlert

__all__ = ["Clock", "MemoryChecksQueue", "Purchaser", "RecordingNotifier"]


class MemoryChecksQueue:
    """In-process checks queue with the interface of ``engine.queue.SqsChecksQueue``."""

    def __init__(self) -> None:
        self._messages: deque[str] = deque()
        self._lock = threading.Lock()
        self.deleted = 0

    def send(self, bodies: list[str]) -> None:
        with self._lock:
            self._messages.extend(bodies)

    def receive(self, limit: int = 10) -> list[tuple[str, str]]:
        with self._lock:
            taken = [self._messages.popleft() for _ in range(min(limit, len(self._messages)))]
        return [(str(id(body)), body) for body in taken]

    def delete(self, receipt: str) -> None:
        with self._lock:
            self.deleted += 1

    def __len__(self) -> int:
        return len(self._messages)


class RecordingNotifier:
    """Remembers what would have been delivered (the payload every channel sends)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def deliver(self, alert: StoredAlert, item: EngineItem) -> dict[str, str]:
        self.sent.append(alert_payload(alert, item))
        return {"recorded": "sent"}


class Clock:
    """The time the test says it is (``clock.now``, seconds); the services call it."""

    def __init__(self, now: float) -> None:
        self.now = float(now)

    def __call__(self) -> float:
        return self.now


class Purchaser:
    """A shop's purchase API that accepts every order (or refuses it) and records the
    idempotency key of each order placed."""

    def __init__(self, accept: bool = True) -> None:
        self.accept = accept
        self.placed: list[str] = []

    def place(self, order: Order) -> tuple[bool, str]:
        self.placed.append(order.idempotency_key)
        return self.accept, "accepted" if self.accept else "refused"
