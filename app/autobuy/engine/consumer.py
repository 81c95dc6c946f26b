"""The check worker loop: receive from the checks queue, run checks concurrently, delete.

Runs in the worker process (``python -m autobuy.engine``, composed in ``runner``; see
docs/engine.md for why a separate process). SIGTERM/SIGINT stop receiving; checks in
flight finish (bounded by ``drain_seconds``) and their messages are deleted; anything
unfinished becomes visible again on the queue.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Protocol

from autobuy.contract import CheckMessage
from autobuy.engine.checks import CheckService

__all__ = ["Backoff", "MessageQueue", "Worker"]

log = logging.getLogger("autobuy.engine.worker")


class MessageQueue(Protocol):
    def receive(self, limit: int = 10) -> list[tuple[str, str]]: ...

    def delete(self, receipt: str) -> None: ...


class Backoff:
    """Exponential back-off with full jitter while a dependency misbehaves.

    ``failed()`` doubles the pause (from ``base`` up to ``cap`` seconds), ``succeeded()``
    resets it; ``delay`` is the pause to take now (0 when healthy).
    """

    def __init__(self, base: float = 0.5, cap: float = 30.0) -> None:
        self._base = base
        self._cap = cap
        self.streak = 0

    def failed(self) -> None:
        self.streak += 1

    def succeeded(self) -> None:
        self.streak = 0

    @property
    def delay(self) -> float:
        if not self.streak:
            return 0.0
        ceiling = min(self._cap, self._base * 2 ** min(self.streak - 1, 16))
        return random.uniform(ceiling / 2, ceiling)


class Worker:
    def __init__(self, queue: MessageQueue, service: CheckService, *, concurrency: int = 64,
                 drain_seconds: float = 30.0, blocking_queue: bool = True,
                 backoff: Backoff | None = None) -> None:
        self._queue = queue
        self._service = service
        self._concurrency = concurrency
        self._drain = drain_seconds
        self._blocking = blocking_queue
        self._tasks: set[asyncio.Task[None]] = set()
        self.outcomes: dict[str, int] = {}
        # Receiving pauses while SQS (receive/delete) or the checks' stores fail.
        self.backoff = backoff or Backoff()

    def _count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    async def _receive(self, limit: int) -> list[tuple[str, str]]:
        if self._blocking:  # boto3 long-poll: keep it off the event loop
            return await asyncio.to_thread(self._queue.receive, limit)
        return self._queue.receive(limit)

    async def _handle(self, receipt: str, body: str) -> None:
        try:
            message = CheckMessage.decode(body)
            outcome = await self._service.check(message.item_id, message.user_id)
        except (ValueError, KeyError, TypeError):
            log.error("dropping malformed check message")
            outcome = "malformed"
        except Exception:  # noqa: BLE001 - leave the message for redelivery / the DLQ
            log.exception("check failed unexpectedly; message stays on the queue")
            self._count("error")
            self.backoff.failed()
            return
        self._count(outcome)
        try:
            if self._blocking:
                await asyncio.to_thread(self._queue.delete, receipt)
            else:
                self._queue.delete(receipt)
        except Exception:  # noqa: BLE001 - the message comes back; its check is idempotent
            log.exception("could not delete a finished check's message; it will come back")
            self._count("delete_failed")
            self.backoff.failed()
            return
        self.backoff.succeeded()

    async def _pause(self, stop: asyncio.Event) -> None:
        delay = self.backoff.delay
        if delay:
            log.warning("backing off %.1f s after %d failures", delay, self.backoff.streak)
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except asyncio.TimeoutError:
                pass

    async def run(self, stop: asyncio.Event, *, idle_exit: bool = False) -> None:
        """Work until ``stop`` is set (or, with ``idle_exit``, until the queue is empty)."""
        while not stop.is_set():
            free = self._concurrency - len(self._tasks)
            if free <= 0:
                await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)
                continue
            await self._pause(stop)
            if stop.is_set():
                break
            try:
                messages = await self._receive(min(10, free))
            except Exception:  # noqa: BLE001 - SQS down or slow: wait, then ask again
                log.exception("receiving from the checks queue failed")
                self._count("receive_failed")
                self.backoff.failed()
                continue
            if not messages:
                if idle_exit and not self._tasks:
                    break
                if self._tasks:
                    await asyncio.wait(set(self._tasks), timeout=0.05,
                                       return_when=asyncio.FIRST_COMPLETED)
                elif not self._blocking:
                    await asyncio.sleep(0.05)
                continue
            for receipt, body in messages:
                task = asyncio.create_task(self._handle(receipt, body))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        if self._tasks:
            done, pending = await asyncio.wait(set(self._tasks), timeout=self._drain)
            for task in pending:
                task.cancel()
            log.info("worker stopped: %d checks drained, %d abandoned", len(done), len(pending))

