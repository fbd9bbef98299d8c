"""A reader that finds a lease run out writes SUSPENDED (or LOST) only over the record it read:
a checkpoint the live but slow attempt wrote in between is never overwritten.

Found by the nemesis (DynamoDB, seed 2): under a slow store, another microVM settled a task from
a stale read and wiped three checkpointed items; the next attempts ran them again."""

from __future__ import annotations

import time
import uuid

import pytest

from agent.kinds.sleep import SleepInput
from agent.records import TaskRecord, TaskStatus
from agent.store.base import Beat
from agent.store.memory import MemoryStore
from tests.unit.conftest import Agent

pytestmark = pytest.mark.unit

SESSION = "unit-session-00000000000000000000000001"
LATE_CHECKPOINT = '{"done": 25.0}'


class SlowAttemptStore(MemoryStore):
    """A memory store where the live attempt's checkpoint lands just after a reader read the
    record and just before its settling write, as on a slow store."""

    def transition(
        self, record: TaskRecord, expected: TaskStatus, attempt: int, *, beat_at: float | None = None
    ) -> bool:
        if expected is TaskStatus.RUNNING and record.status is TaskStatus.SUSPENDED:
            now = time.time()
            late = Beat(
                progress=25 / 30,
                message="25 of 30 s",
                at=now,
                expires_at=int(now + 3600),
                checkpoint=(LATE_CHECKPOINT, None),
            )
            assert self.beat(record.session_id, record.task_id, attempt, late)
        return super().transition(record, expected, attempt, beat_at=beat_at)


@pytest.fixture
def store() -> MemoryStore:
    return SlowAttemptStore()


def running(task_id: str) -> TaskRecord:
    """A sleep task whose last heartbeat is older than the unit tier's 1 s lease."""
    now = time.time()
    return TaskRecord(
        session_id=SESSION,
        task_id=task_id,
        status=TaskStatus.RUNNING,
        kind="sleep",
        input_json=SleepInput(duration=30).model_dump_json(),
        created_at=now - 20,
        updated_at=now - 5,
        heartbeat_at=now - 5,
        expires_at=int(now + 3600),
        progress=5 / 30,
        checkpoint='{"done": 5.0}',
    )


def test_a_settle_from_a_stale_read_keeps_the_checkpoint_written_since(
    stored_agent: Agent, store: MemoryStore
) -> None:
    assert stored_agent.invoke({"action": "list_tasks"}, SESSION)["tasks"] == []
    task_id = str(uuid.uuid4())
    store.create(running(task_id))

    answer = stored_agent.invoke({"action": "get_task_result", "task_id": task_id}, SESSION)

    record = store.get(SESSION, task_id)
    assert record is not None
    assert (record.status, record.attempt, record.checkpoint) == (TaskStatus.RUNNING, 1, LATE_CHECKPOINT)
    assert (answer["status"], answer["attempt"]) == ("RUNNING", 1), answer
