"""Unit test of TaskEngine.get: a long-poll that times out leaves nothing behind."""

from __future__ import annotations

import asyncio

import pytest

from agent.engine import TaskEngine
from agent.kinds import KIND_MODULES
from agent.kinds.registry import Kinds
from agent.payloads import StartBackgroundTask
from agent.ping import PingState
from agent.settings import load_settings
from agent.store.base import Stores
from agent.store.memory import MemoryStore

pytestmark = pytest.mark.unit

SESSION = "session-long-poll-0000000000000000000000"


async def _poll_a_running_task(polls: int) -> tuple[int, int]:
    settings = load_settings({"AGENT_STORE_BACKEND": "memory", "AGENT_ALLOW_MEMORY_STORE": "true"})
    engine = TaskEngine(
        settings, Stores(tasks=MemoryStore()), busy=PingState(), kinds=Kinds.load(KIND_MODULES)
    )
    try:
        started = await engine.start(
            SESSION, StartBackgroundTask(action="start_background_task", duration=60.0).as_start_task()
        )
        await engine.get(SESSION, started["task_id"], wait_seconds=0.01)  # the task and its heartbeat run
        before = len(asyncio.all_tasks())
        for _ in range(polls):
            view = await engine.get(SESSION, started["task_id"], wait_seconds=0.01)
            assert view["status"] == "RUNNING"
        return before, len(asyncio.all_tasks())
    finally:
        await engine.shutdown()


def test_timed_out_long_polls_leave_no_waiters_behind() -> None:
    before, after = asyncio.run(_poll_a_running_task(20))
    assert after == before


async def _progress_updates(updates: int) -> list[tuple[float, float]]:
    settings = load_settings(
        {
            "AGENT_STORE_BACKEND": "memory",
            "AGENT_ALLOW_MEMORY_STORE": "true",
            "AGENT_HEARTBEAT_SECONDS": "0.2",
        }
    )
    engine = TaskEngine(
        settings, Stores(tasks=MemoryStore()), busy=PingState(), kinds=Kinds.load(KIND_MODULES)
    )
    loop = asyncio.get_running_loop()
    seen: list[tuple[float, float]] = []
    try:
        started = await engine.start(
            SESSION, StartBackgroundTask(action="start_background_task", duration=30.0).as_start_task()
        )
        last = 0.0
        for _ in range(updates):
            asked = loop.time()
            view = await engine.get(SESSION, started["task_id"], wait_seconds=20, last_progress=last)
            seen.append((view["progress"], loop.time() - asked))
            last = view["progress"]
        return seen
    finally:
        await engine.shutdown()


def test_a_long_poll_with_last_progress_answers_as_soon_as_progress_moves() -> None:
    seen = asyncio.run(_progress_updates(3))
    progresses = [progress for progress, _ in seen]
    assert progresses == sorted(progresses) and len(set(progresses)) == 3, seen
    # Each answer came with the next progress report (every 0.2 s), not after the 20 s wait.
    assert all(took < 2 for _, took in seen), seen
