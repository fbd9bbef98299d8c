"""The result cache's circuit breaker (a pure decision, on a fake clock) and the guard that uses it."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from agent.records import TaskRecord
from agent.store.breaker import Breaker
from agent.store.guarded_cache import GuardedCache

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_failures_in_a_row_and_retries_after_its_cooldown() -> None:
    breaker = Breaker(threshold=3, cooldown_seconds=5.0)
    breaker.failed(0.0)
    breaker.failed(1.0)
    assert breaker.allows(1.0)
    breaker.failed(2.0)
    assert not breaker.allows(2.0)
    assert not breaker.allows(6.9)
    assert breaker.allows(7.0)
    breaker.failed(7.0)  # still failing: open again at once
    assert not breaker.allows(7.0)
    assert breaker.allows(12.0)
    breaker.succeeded()
    breaker.failed(12.0)
    breaker.failed(12.0)
    assert breaker.allows(12.0)  # a success started the count again


def test_a_success_between_failures_keeps_it_closed() -> None:
    breaker = Breaker(threshold=2, cooldown_seconds=5.0)
    for _ in range(5):
        breaker.failed(0.0)
        breaker.succeeded()
    assert breaker.allows(0.0)


class HungCache:
    """Never answers until released; counts the calls that reached it."""

    def __init__(self) -> None:
        self.calls = 0
        self.released = threading.Event()

    def get(self, session_id: str, task_id: str) -> TaskRecord | None:
        self.calls += 1
        self.released.wait(10)
        return None

    def put(self, record: TaskRecord) -> None:
        self.get(record.session_id, record.task_id)

    def close(self) -> None:
        self.released.set()


def test_a_hung_cache_is_a_quick_miss_then_skipped_until_the_cooldown() -> None:
    cache, clock = HungCache(), FakeClock()
    guard = GuardedCache(
        cache, budget_seconds=0.05, breaker=Breaker(threshold=2, cooldown_seconds=5), clock=clock
    )

    async def gets(n: int) -> list[TaskRecord | None]:
        return [await guard.get("s", "t") for _ in range(n)]

    try:
        started = time.monotonic()
        assert asyncio.run(gets(5)) == [None] * 5
        assert time.monotonic() - started < 1.0
        assert cache.calls == 2  # then skipped
        assert guard.failing
        clock.now += 5
        assert not guard.failing
        asyncio.run(gets(1))
        assert cache.calls == 3
    finally:
        cache.close()
        guard.stop()
