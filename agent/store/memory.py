"""In-process store for tests only: everything is lost when the process ends."""

from __future__ import annotations

import threading

from agent.records import TaskRecord, TaskStatus
from agent.store.base import Cursor, live, older_than


class MemoryStore:
    """A dict behind a lock; the settings refuse it unless explicitly allowed."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], TaskRecord] = {}
        self._lock = threading.Lock()

    def create(self, record: TaskRecord) -> TaskRecord:
        """Insert unless present; return the stored record."""
        with self._lock:
            return self._records.setdefault((record.session_id, record.task_id), record)

    def get(self, session_id: str, task_id: str) -> TaskRecord | None:
        """The record or None."""
        with self._lock:
            return self._records.get((session_id, task_id))

    def heartbeat(self, session_id: str, task_id: str, progress: float, now: float) -> bool:
        """Refresh a RUNNING record."""
        with self._lock:
            current = self._records.get((session_id, task_id))
            if current is None or current.status is not TaskStatus.RUNNING:
                return False
            self._records[(session_id, task_id)] = current.replace(
                progress=progress, heartbeat_at=now, updated_at=now
            )
            return True

    def finish(self, record: TaskRecord) -> bool:
        """Replace a RUNNING record with a terminal one."""
        with self._lock:
            current = self._records.get((record.session_id, record.task_id))
            if current is None or current.status is not TaskStatus.RUNNING:
                return False
            self._records[(record.session_id, record.task_id)] = record
            return True

    def list(self, session_id: str, limit: int, cursor: Cursor | None, now: float) -> list[TaskRecord]:
        """Newest first, after the cursor, live records only."""
        with self._lock:
            mine = [
                r
                for (s, _), r in self._records.items()
                if s == session_id and older_than(r, cursor) and live(r, now)
            ]
        mine.sort(key=lambda r: (r.created_at, r.task_id), reverse=True)
        return mine[:limit]

    def close(self) -> None:
        """Nothing to release."""
