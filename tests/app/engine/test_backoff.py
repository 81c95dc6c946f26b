"""The worker's back-off while SQS or the stores fail (issue 17), in memory."""
from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import ValidationError

from autobuy.engine.checks import CheckPolicy, CheckService
from autobuy.engine.config import EngineSettings
from autobuy.engine.consumer import Backoff, Worker
from autobuy.engine.store import MemoryEngineStore
from tests.app.support.doubles import RecordingNotifier


def test_backoff_doubles_with_jitter_up_to_the_cap_and_resets():
    backoff = Backoff(0.5, 4.0)
    assert backoff.delay == 0
    ceilings = []
    for _ in range(6):
        backoff.failed()
        ceilings.append(min(4.0, 0.5 * 2 ** (backoff.streak - 1)))
        assert ceilings[-1] / 2 <= backoff.delay <= ceilings[-1]
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.succeeded()
    assert backoff.delay == 0


class DownQueue:
    """SQS answering errors: every receive raises."""

    def __init__(self) -> None:
        self.receives = 0

    def receive(self, limit: int = 10) -> list[tuple[str, str]]:
        self.receives += 1
        raise ConnectionError("sqs down")

    def delete(self, receipt: str) -> None:
        raise AssertionError("nothing to delete")


def test_worker_pauses_between_failed_receives_instead_of_spinning():
    queue = DownQueue()
    service = CheckService(MemoryEngineStore(), None, RecordingNotifier(), None, CheckPolicy(),
                           owner="w")
    worker = Worker(queue, service, blocking_queue=False, backoff=Backoff(0.1, 0.4))

    async def run() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(1.5, stop.set)
        await worker.run(stop)

    started = time.monotonic()
    asyncio.run(run())
    assert time.monotonic() - started < 2.5  # stop still ends a pause at once
    # 0.05-0.1, 0.1-0.2, then 0.2-0.4 s each: at most ~9 receives in 1.5 s (a spin: thousands)
    assert 3 <= queue.receives <= 10, queue.receives
    assert worker.outcomes == {"receive_failed": queue.receives}


def test_backoff_settings_are_validated_by_name():
    base = {"checks_queue_url": "https://sqs.example/q", "_env_file": None}
    with pytest.raises(ValidationError, match="engine_backoff_seconds"):
        EngineSettings(**base, engine_backoff_seconds=0)
    with pytest.raises(ValidationError, match="AUTOBUY_ENGINE_BACKOFF_MAX_SECONDS"):
        EngineSettings(**base, engine_backoff_seconds=10, engine_backoff_max_seconds=5)
    with pytest.raises(ValidationError, match="aws_read_timeout_seconds"):
        EngineSettings(**base, aws_read_timeout_seconds=0)
