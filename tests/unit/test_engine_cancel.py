"""Cancelling a SUSPENDED task: the record is written CANCELLED here, no process runs it."""

from __future__ import annotations

import time
import uuid

import pytest

from agent.kinds.sleep import SleepInput
from agent.records import TaskRecord, TaskStatus
from agent.store.memory import MemoryStore
from tests.unit.conftest import Agent

pytestmark = pytest.mark.unit

SESSION = "unit-session-00000000000000000000000001"


def suspended(task_id: str) -> TaskRecord:
    """A sleep task whose microVM ended 5 s into its 30 s, with its checkpoint."""
    now = time.time()
    return TaskRecord(
        session_id=SESSION,
        task_id=task_id,
        status=TaskStatus.SUSPENDED,
        kind="sleep",
        input_json=SleepInput(duration=30).model_dump_json(),
        created_at=now - 10,
        updated_at=now - 5,
        heartbeat_at=now - 5,
        expires_at=int(now + 3600),
        progress=5 / 30,
        checkpoint="5",
    )


def test_a_suspended_task_is_cancelled_and_stays_cancelled(stored_agent: Agent, store: MemoryStore) -> None:
    # The session's first invocation has resumed what there was to resume (nothing): the record
    # written next stays SUSPENDED until the cancel.
    assert stored_agent.invoke({"action": "list_tasks"}, SESSION)["tasks"] == []
    task_id = str(uuid.uuid4())
    store.create(suspended(task_id))

    answer = stored_agent.invoke({"action": "cancel_task", "task_id": task_id}, SESSION)

    assert answer["status"] == "CANCELLED", answer
    assert answer["error"] == {"code": "Cancelled", "message": "cancelled by request"}
    record = store.get(SESSION, task_id)
    assert record is not None
    assert (record.status, record.error_code, record.attempt) == (TaskStatus.CANCELLED, "Cancelled", 1)
    assert record.checkpoint is None, "a cancelled task keeps no checkpoint to resume from"

    again = stored_agent.invoke({"action": "cancel_task", "task_id": task_id}, SESSION)

    assert again == answer
    assert store.get(SESSION, task_id) == record
