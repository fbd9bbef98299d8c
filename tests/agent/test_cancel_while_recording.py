"""Unit test of TaskEngine.cancel: a cancel arriving while a finished result is being recorded."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agent.engine import TaskEngine
from agent.kinds import KIND_MODULES
from agent.kinds.registry import Kinds
from agent.payloads import StartBackgroundTask
from agent.ping import PingState
from agent.records import TaskRecord, TaskStatus
from agent.settings import load_settings
from agent.store.base import Stores
from agent.store.memory import MemoryStore

pytestmark = pytest.mark.unit

SESSION = "session-cancel-while-recording-000000000"


class FinishOutage(MemoryStore):
    """A memory store whose terminal writes fail with a connection error while ``down``."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True
        self.failed_finishes = 0

    def transition(
        self, record: TaskRecord, expected: TaskStatus, attempt: int, *, beat_at: float | None = None
    ) -> bool:
        if self.down and record.status.finished:
            self.failed_finishes += 1
            raise ConnectionError("storage unreachable")
        return super().transition(record, expected, attempt, beat_at=beat_at)


async def _cancel_during_recording() -> tuple[dict[str, Any], TaskRecord | None]:
    settings = load_settings(
        {
            "AGENT_STORE_BACKEND": "memory",
            "AGENT_ALLOW_MEMORY_STORE": "true",
            "AGENT_WRITE_ATTEMPTS": "1",
            "AGENT_RETRY_BASE_SECONDS": "0.05",
        }
    )
    store = FinishOutage()
    engine = TaskEngine(settings, Stores(tasks=store), busy=PingState(), kinds=Kinds.load(KIND_MODULES))
    try:
        started = await engine.start(
            SESSION, StartBackgroundTask(action="start_background_task", duration=0.1).as_start_task()
        )
        async with asyncio.timeout(10):
            while store.failed_finishes == 0:  # the work is done; its result is being held
                await asyncio.sleep(0.01)
        asyncio.get_running_loop().call_later(0.3, setattr, store, "down", False)
        view = await engine.cancel(SESSION, started["task_id"])
        return view, store.get(SESSION, started["task_id"])
    finally:
        await engine.shutdown()


def test_a_result_being_recorded_is_not_lost_to_a_cancel() -> None:
    view, stored = asyncio.run(_cancel_during_recording())
    assert stored is not None
    assert stored.status is TaskStatus.COMPLETED
    assert (view["status"], view["result"]) == ("COMPLETED", "Task completed after 0.1s")
