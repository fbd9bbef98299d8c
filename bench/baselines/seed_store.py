"""The seed's blocking result write and read, through our agent's own task-store backends.

The seed writes one item when a task finishes and nothing before; reading finds it or not.
Both go through the store our agent builds from the same settings (``agent.store.factory``), so
the baseline writes the same SQLite file (WAL, same schema) or the same DynamoDB table with the
same client code: the comparison measures the pattern, not a different store.
"""

from __future__ import annotations

import json
import time
from typing import Any

from agent.records import TaskRecord, TaskStatus
from agent.settings import load_settings
from agent.store.base import TaskStore
from agent.store.factory import build_stores

RESULT_TTL_SECONDS = 7 * 86400


class SeedStore:
    """``put_item`` of the finished result and ``get_item`` of it, as in the seed post."""

    def __init__(self, tasks: TaskStore) -> None:
        self._tasks = tasks

    def put(self, session_id: str, task_id: str, duration: float, result: str) -> None:
        """Store a finished task's result (one blocking write)."""
        now = time.time()
        self._tasks.create(
            TaskRecord(
                session_id=session_id,
                task_id=task_id,
                status=TaskStatus.COMPLETED,
                kind="sleep",
                input_json=json.dumps({"duration": duration}),
                created_at=now,
                updated_at=now,
                heartbeat_at=now,
                expires_at=int(now + RESULT_TTL_SECONDS),
                progress=1.0,
                result=result,
            )
        )

    def get(self, session_id: str, task_id: str) -> dict[str, Any] | None:
        """The stored result, or None while the task runs (or when it does not exist)."""
        record = self._tasks.get(session_id, task_id)
        if record is None:
            return None
        return {"result": record.result, "updated_at": record.updated_at}


def store_from_env() -> SeedStore:
    """The task store our agent would use with this environment (SQLite or DynamoDB)."""
    return SeedStore(build_stores(load_settings()).tasks)
